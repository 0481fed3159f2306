"""The engine's own writes: a run's row and its node records, as prepared statements.

Every run writes the same three statements (the run's INSERT, one multi-row INSERT of its
node records, the run's final UPDATE). Through the ORM each costs more Python than SQL: the
compiler rebuilds the statement and adapts every value through several layers per field. Here
each statement is built once (per row count on SQLite; apps.common.bulk_insert), and each
value goes through one adapter chosen once per field: the same conversions the ORM applies
(JSON through the field's own get_db_prep_save, datetimes through the backend's adapter),
without the walk.
Rows and values are exactly what Model.save() and bulk_create() would store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC
from typing import Any

from django.db import connections, models, router

from apps.common import bulk_insert

Adapter = Callable[[Any, Any], Any]  # (value, connection) -> database value
Column = tuple[str, str, Adapter, models.Field]  # attribute, column, adapter, field
PLAIN_JSON = (dict, list, str, int, float, bool, type(None))


def adapter_for(field: models.Field) -> Adapter:
    if isinstance(field, models.JSONField):
        # Plain JSON values: the backend's adapter, where get_db_prep_save ends for them.
        return lambda value, connection: (
            connection.ops.adapt_json_value(value, field.encoder)
            if type(value) in PLAIN_JSON else field.get_db_prep_save(value, connection)
        )  # fmt: skip
    if isinstance(field, models.DateTimeField):
        return adapt_datetime
    if isinstance(field, (models.CharField, models.TextField)):
        # TextChoices members and lazy strings go the long way; plain str needs nothing.
        return lambda value, connection: (
            value if type(value) is str else field.get_db_prep_save(value, connection)
        )
    if isinstance(field, (models.ForeignKey, models.IntegerField, models.FloatField)):
        return lambda value, connection: (
            value if type(value) in (int, float) or value is None else
            field.get_db_prep_save(value, connection)
        )  # fmt: skip
    return lambda value, connection: field.get_db_prep_save(value, connection)


def adapt_datetime(value: Any, connection: Any) -> Any:
    # SQLite stores UTC text; timezone.now() is already UTC, so the backend's conversion
    # (make_naive in the connection's zone, then str) comes down to dropping the zone.
    if (
        connection.vendor == "sqlite"
        and getattr(value, "tzinfo", None) is UTC
        and connection.timezone_name == "UTC"
    ):
        return str(value.replace(tzinfo=None))
    return connection.ops.adapt_datetimefield_value(value)


_COLUMNS: dict[tuple, list[Column]] = {}
_SQL: dict[tuple, str] = {}
MAX_ROWS = 500  # per INSERT: far below SQLite's 32,766 parameters at 13 columns a row


def columns(model: type[models.Model], names: tuple[str, ...]) -> list[Column]:
    """The named fields' columns; every concrete field but the pk when names is empty."""
    found = _COLUMNS.get((model, names))
    if found is None:
        meta = model._meta
        fields = (
            [meta.get_field(name) for name in names]
            if names
            else [field for field in meta.concrete_fields if not field.primary_key]
        )
        found = [(field.attname, field.column, adapter_for(field), field) for field in fields]
        _COLUMNS[(model, names)] = found
    return found


def update_sql(model: type[models.Model], names: tuple[str, ...], connection: Any) -> str:
    cache_key = ("update", model, names, connection.vendor)
    sql = _SQL.get(cache_key)
    if sql is None:
        quote = connection.ops.quote_name
        sets = ", ".join(f"{quote(column)} = %s" for _, column, _, _ in columns(model, names))
        table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
        sql = f"UPDATE {table} SET {sets} WHERE {pk} = %s"  # noqa: S608 - model names only
        _SQL[cache_key] = sql
    return sql


def insert_values(model: type[models.Model], rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """INSERT rows of `model` given as {attname: value} (a field left out takes its default),
    one statement per MAX_ROWS rows; returns their ids in order."""
    if not rows:
        return []
    connection = connections[router.db_for_write(model)]
    cols = columns(model, ())
    if not connection.features.can_return_rows_from_bulk_insert:  # the ORM's way
        made = model.objects.bulk_create([model(**row) for row in rows])
        return [obj.pk for obj in made]
    missing = object()
    ids: list[int] = []
    # Runs started by one webhook share its payload and their definition's config: each such
    # object is serialised once (by identity: the rows hold them alive for the whole call).
    shared: dict[tuple[int, int], Any] = {}
    as_json = bulk_insert.as_json_rows(connection)  # PostgreSQL: plain values, one JSON array
    names = column_names(model)
    table, pk = model._meta.db_table, model._meta.pk.column
    for start in range(0, len(rows), MAX_ROWS):
        chunk = rows[start : start + MAX_ROWS]
        values: list[list[Any]] = []
        params: list[Any] = []  # SQLite: every row's values, flat
        for row in chunk:
            if as_json:
                params = []
                values.append(params)
            for index, (attname, _, adapt, field) in enumerate(cols):
                value = row.get(attname, missing)
                if value is missing:
                    value = field.get_default()
                elif as_json:
                    pass
                elif isinstance(value, (dict, list)):
                    key = (index, id(value))
                    if key not in shared:
                        shared[key] = adapt(value, connection)
                    params.append(shared[key])
                    continue
                params.append(value if as_json else adapt(value, connection))
        sql = bulk_insert.insert_sql(connection, table, names, len(chunk), pk)
        with connection.cursor() as cursor:
            cursor.execute(sql, bulk_insert.insert_params(connection, names, values) if as_json
                           else params)  # fmt: skip
            ids += [row[0] for row in cursor.fetchall()]
    return ids


_NAMES: dict[type[models.Model], tuple[str, ...]] = {}


def column_names(model: type[models.Model]) -> tuple[str, ...]:
    """The columns insert_values writes, in order."""
    names = _NAMES.get(model)
    if names is None:
        names = _NAMES[model] = tuple(column for _, column, _, _ in columns(model, ()))
    return names


def insert(objs: Sequence[models.Model]) -> None:
    """INSERT new instances of one model; sets their pk and state as save() would."""
    if not objs:
        return
    ids = insert_values(type(objs[0]), [obj.__dict__ for obj in objs])
    alias = router.db_for_write(type(objs[0]))
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding, obj._state.db = False, alias


def update_values(
    model: type[models.Model], pk: int, names: tuple[str, ...], values: Mapping[str, Any]
) -> None:
    """UPDATE the named fields (values by attname) of one row, like save(update_fields=...)."""
    connection = connections[router.db_for_write(model)]
    params = [adapt(values[name], connection) for name, _, adapt, _ in columns(model, names)]
    params.append(pk)
    with connection.cursor() as cursor:
        cursor.execute(update_sql(model, names, connection), params)


def update(obj: models.Model, names: tuple[str, ...]) -> None:
    """UPDATE the named fields of a stored instance, like save(update_fields=names)."""
    update_values(type(obj), obj.pk, names, obj.__dict__)
