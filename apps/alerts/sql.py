"""The hand-written SQL of ingestion: multi-row INSERT ... RETURNING writers, and the narrow
probes that come before the ORM reads.

Speed (the webhook path, issue 4): with the probes, a payload of new alerts in new groups
builds no model from a read and compiles no ORM query; new rows are written with multi-row
INSERT ... RETURNING id (insert_new) instead of bulk_create, whose per-field preparation cost
more than everything else. The stored values are the same.
"""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections

from apps.alerts.models import ACTIVE_STATUSES, Alert, AlertEvent, Incident, IncidentEvent
from apps.common import bulk_insert

LOOKUP_CHUNK = 500
EVENT_COLUMNS = {
    AlertEvent: ("alert_id", "kind", "reason", "trace_id", "created_at"),
    IncidentEvent: ("incident_id", "from_status", "to_status", "reason", "trace_id", "created_at"),
}
# Columns written for a new row; "id" comes back from the database.
ALERT_INSERT_COLUMNS = (
    "source", "fingerprint", "fingerprint_fields", "group_key", "name", "status", "severity",
    "host", "description", "labels", "annotations", "started_at", "ended_at", "content_hash",
    "url", "group_reason", "incident_id", "created_at", "updated_at",
)  # fmt: skip
INCIDENT_INSERT_COLUMNS = (
    "title", "status", "severity", "group_key", "source", "host", "created_at", "updated_at",
    "acknowledged_at", "resolved_at",
)  # fmt: skip


def insert_events(model: type[AlertEvent] | type[IncidentEvent], rows: list[tuple]) -> None:
    """Append event rows with multi-row INSERTs (batched by the backend's parameter limit).

    Events are write-only rows of plain values; bulk_create would prepare every field of
    every object, which cost more than the rest of a webhook. The last column is a datetime.
    One statement rather than executemany: psycopg runs executemany as one statement per row.
    """
    if not rows:
        return
    db = connections[DEFAULT_DB_ALIAS]
    columns = EVENT_COLUMNS[model]
    by_attname = {field.attname: field for field in model._meta.concrete_fields}
    batch = bulk_insert.rows_per_statement(db, [by_attname[c] for c in columns], rows)
    if not bulk_insert.as_json_rows(db):
        adapt = memoized(db.ops.adapt_datetimefield_value)
        rows = [(*row[:-1], adapt(row[-1])) for row in rows]
    with db.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            sql = bulk_insert.insert_sql(db, model._meta.db_table, columns, len(chunk))
            cursor.execute(sql, bulk_insert.insert_params(db, columns, chunk))


def insert_all_events(alert_rows: list[tuple], incident_rows: list[tuple]) -> None:
    """AlertEvent and IncidentEvent rows (as insert_events takes them); on PostgreSQL both in
    one statement when there are both: one round trip a webhook fewer."""
    db = connections[DEFAULT_DB_ALIAS]
    both = alert_rows and incident_rows and bulk_insert.as_json_rows(db)
    if not both or max(len(alert_rows), len(incident_rows)) > bulk_insert.JSON_MAX_ROWS:
        insert_events(AlertEvent, alert_rows)
        insert_events(IncidentEvent, incident_rows)
        return
    alert_columns, incident_columns = EVENT_COLUMNS[AlertEvent], EVENT_COLUMNS[IncidentEvent]
    sql = bulk_insert.insert_both_sql(
        db,
        (AlertEvent._meta.db_table, alert_columns),
        (IncidentEvent._meta.db_table, incident_columns),
    )
    params = bulk_insert.insert_params(db, alert_columns, alert_rows)
    params += bulk_insert.insert_params(db, incident_columns, incident_rows)
    with db.cursor() as cursor:
        cursor.execute(sql, params)


def insert_new(model: type[Alert] | type[Incident], objs: list, columns: tuple[str, ...]) -> None:
    """INSERT new rows with RETURNING id and set each object's pk, as bulk_create does.

    bulk_create runs every field of every object through the ORM's preparation, which cost
    more than everything else a webhook does. Here only JSON and datetime columns go through
    their field's get_db_prep_save (the same conversion bulk_create applies); the other
    columns are plain strings and ids already. Backends without multi-row RETURNING (SQLite
    before 3.35) use bulk_create.
    """
    if not objs:
        return
    db = connections[DEFAULT_DB_ALIAS]  # the real connection: the proxy costs per attribute
    if not db.features.can_return_rows_from_bulk_insert:
        model.objects.bulk_create(objs)
        return
    fields = [model._meta.get_field(column.removesuffix("_id")) for column in columns]
    as_json = bulk_insert.as_json_rows(db)  # PostgreSQL: plain values, one JSON array
    adapters = [None if as_json else column_adapter(field, db) for field in fields]
    for model_field in fields:
        if model_field.is_relation:
            link_saved_parents(objs, model_field)
    table, pk_column = model._meta.db_table, model._meta.pk.column
    batch = bulk_insert.rows_per_statement(db, fields, objs)
    with db.cursor() as cursor:
        for start in range(0, len(objs), batch):
            chunk = objs[start : start + batch]
            rows = []
            for obj in chunk:
                row = []
                for column, adapt in zip(columns, adapters, strict=True):
                    value = getattr(obj, column)
                    row.append(value if adapt is None or value is None else adapt(value))
                rows.append(row)
            sql = bulk_insert.insert_sql(db, table, columns, len(chunk), pk_column)
            cursor.execute(sql, bulk_insert.insert_params(db, columns, rows))
            for obj, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = db.alias


def update_rows(model: type[Alert] | type[Incident], objs: list, fields: list[str]) -> None:
    """UPDATE these fields of saved rows, one statement per row sent as one batch.

    bulk_update builds a CASE WHEN expression per field per row through the ORM: for ten
    incidents that was three quarters of a webhook's CPU. Values are adapted as insert_new
    adapts them (the same conversions bulk_update applies); psycopg sends the batch in
    pipeline mode, SQLite runs it without leaving the process.
    """
    if not objs:
        return
    db = connections[DEFAULT_DB_ALIAS]
    model_fields = [model._meta.get_field(name) for name in fields]
    columns = [model_field.attname for model_field in model_fields]  # type: ignore[union-attr]
    adapters = [column_adapter(model_field, db) for model_field in model_fields]
    for model_field in model_fields:
        if model_field.is_relation:  # a changed alert may point at an incident saved just now
            link_saved_parents(objs, model_field)
    quote = db.ops.quote_name
    sql = "UPDATE {} SET {} WHERE {} = %s".format(  # noqa: S608 - names from the model only
        quote(model._meta.db_table),
        ", ".join(f"{quote(column)} = %s" for column in columns),
        quote(model._meta.pk.column),
    )
    rows = []
    for obj in objs:
        params = []
        for column, adapt in zip(columns, adapters, strict=True):
            value = getattr(obj, column)
            params.append(value if adapt is None or value is None else adapt(value))
        rows.append([*params, obj.pk])
    with db.cursor() as cursor:
        if len(rows) == 1:
            cursor.execute(sql, rows[0])
        else:
            cursor.executemany(sql, rows)


def link_saved_parents(objs: list, field: Any) -> None:
    """Copy the pk of a parent saved after it was assigned (a new incident) into the
    foreign key column, keeping the cached parent object, as bulk_create does."""
    for obj in objs:
        if getattr(obj, field.attname) is None and field.is_cached(obj):
            parent = field.get_cached_value(obj)
            if parent is not None and parent.pk is None:
                raise ValueError(f"{field.name} of a new {type(obj).__name__} is not saved yet")
            if parent is not None:
                setattr(obj, field.name, parent)


def column_adapter(field: Any, db: Any) -> Any:
    """What turns a non-None value of this field into a query parameter (None: as it is).

    The same backend adapters the fields' get_db_prep_save end in. Datetimes here are
    always aware (the vendor parsers' and timezone.now()), so the naive-datetime warning
    does not apply.
    """
    kind = field.get_internal_type()
    if kind == "JSONField":
        return lambda value: db.ops.adapt_json_value(value, field.encoder)
    if kind == "DateTimeField":
        return memoized(db.ops.adapt_datetimefield_value)
    return None


def memoized(adapt: Any) -> Any:
    """Adapt each distinct value once: most datetimes of a payload are the same "now"."""
    done: dict[Any, Any] = {}

    def adapt_once(value: Any) -> Any:
        if value not in done:
            done[value] = adapt(value)
        return done[value]

    return adapt_once


def new_row(model: type[Alert] | type[Incident], **values: Any) -> Any:
    """An unsaved instance built the way Django builds a loaded row (positional __init__),
    which skips the per-keyword work of Model(**kwargs); unnamed fields get their default."""
    return model(
        *[
            values[field.attname] if field.attname in values else field.get_default()
            for field in model._meta.concrete_fields
        ]
    )


def stored_fingerprints(source: str, fingerprints: list[str]) -> set[str]:
    """Which of these fingerprints are stored: one indexed read, no model objects."""
    quote = connection.ops.quote_name
    table, fingerprint = quote(Alert._meta.db_table), quote("fingerprint")
    found: set[str] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(fingerprints), LOOKUP_CHUNK):
            chunk = fingerprints[start : start + LOOKUP_CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            sql = f"SELECT {fingerprint} FROM {table} WHERE {quote('source')} = %s"  # noqa: S608
            cursor.execute(f"{sql} AND {fingerprint} IN ({marks})", [source, *chunk])
            found.update(row[0] for row in cursor.fetchall())
    return found


def active_incident_ids(keys: set[str]) -> list[int]:
    """The open or acknowledged incidents holding one of these group keys: one read per chunk.

    The status test is written `status || ''`, which no index serves, so that the planner looks
    rows up by group key: with an index on status too and no statistics (SQLite never gathers
    them; PostgreSQL has none for a table filled since its last ANALYZE, as in a storm), both
    picked the status index and walked every open incident, which in a storm is all of them
    (measured on SQLite: 57% of a webhook's CPU at 19,000).
    """
    quote = connection.ops.quote_name
    status = f"({quote('status')} || '')"
    ordered = sorted(keys)
    found: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(ordered), LOOKUP_CHUNK):
            chunk = ordered[start : start + LOOKUP_CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            sql = (
                f"SELECT {quote('id')} FROM {quote(Incident._meta.db_table)} "  # noqa: S608
                f"WHERE {status} IN (%s, %s) AND {quote('group_key')} IN ({marks})"
            )
            cursor.execute(sql, [*map(str, ACTIVE_STATUSES), *chunk])
            found.extend(row[0] for row in cursor.fetchall())
    return found
