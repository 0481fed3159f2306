"""Multi-row INSERT statements whose text does not depend on the number of rows on PostgreSQL.

`INSERT ... VALUES (%s, ...), (%s, ...)` has a text per row count and a parameter per value:
psycopg does not keep its %s-to-$n conversion of a statement of more than 50 parameters, and
that conversion, in Python, was over a quarter of a webhook's CPU in the web process on
PostgreSQL (py-spy, GIL samples); the server parsed and planned each text anew as well. On
PostgreSQL the rows go as one JSON array instead, read by json_populate_recordset: one
parameter, one text per table and columns (converted once, prepared by the server), the rows
encoded by orjson (the json module's C encoder was still 13% of a webhook's CPU there). Rows
come back from RETURNING in the order given, as with VALUES (and as Django's bulk_create relies
on for its UNNEST form). Elsewhere, VALUES.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import orjson
from django.db import models

_SQL: dict[tuple, str] = {}
JSON_MAX_ROWS = 1000  # per statement on PostgreSQL: a bound on one message's size


def as_json_rows(connection: Any) -> bool:
    """True when rows go as one JSON parameter: callers then pass plain Python values (dicts
    and lists for JSON columns, aware datetimes), not the backend's adapted ones."""
    return connection.vendor == "postgresql"


def rows_per_statement(connection: Any, fields: Sequence[models.Field], rows: Sequence) -> int:
    if as_json_rows(connection):
        return JSON_MAX_ROWS
    return max(1, connection.ops.bulk_batch_size(list(fields), rows))


def insert_sql(
    connection: Any, table: str, columns: Sequence[str], rows: int, returning: str = ""
) -> str:
    """The INSERT of `rows` rows of these columns into `table`, RETURNING `returning`."""
    by_json = as_json_rows(connection)
    names = columns if isinstance(columns, tuple) else tuple(columns)
    key = (connection.vendor, table, names, 0 if by_json else rows, returning)
    sql = _SQL.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        listed = ", ".join(quote(column) for column in columns)
        if by_json:
            rows_of = f"json_populate_recordset(NULL::{quote(table)}, %s::json)"
            source = f"SELECT {listed} FROM {rows_of}"  # noqa: S608 - the models' names
        else:
            one = "({})".format(", ".join(["%s"] * len(columns)))
            source = "VALUES " + ", ".join([one] * rows)
        # Names come from the models' metadata, quoted by the backend; values are parameters.
        sql = f"INSERT INTO {quote(table)} ({listed}) {source}"  # noqa: S608
        if returning:
            sql += f" RETURNING {quote(returning)}"
        _SQL[key] = sql
    return sql


def insert_both_sql(
    connection: Any, first: tuple[str, Sequence[str]], second: tuple[str, Sequence[str]]
) -> str:
    """PostgreSQL only: the INSERTs of JSON rows into two tables, (table, columns) each, as one
    statement (a data-modifying WITH): one round trip instead of two. Its parameters: the
    first table's insert_params, then the second's."""
    key = ("both", first[0], tuple(first[1]), second[0], tuple(second[1]))
    sql = _SQL.get(key)
    if sql is None:
        one = insert_sql(connection, first[0], first[1], 0)
        two = insert_sql(connection, second[0], second[1], 0)
        sql = _SQL[key] = f"WITH first_rows AS ({one}) {two}"
    return sql


def insert_params(
    connection: Any, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[Any]:
    """The parameters of insert_sql for these rows (each a sequence of values, in columns'
    order: plain Python values when as_json_rows(), database values otherwise)."""
    if as_json_rows(connection):
        document = [dict(zip(columns, row, strict=True)) for row in rows]
        return [encode_rows(document)]
    return [value for row in rows for value in row]


def encode_rows(document: list[dict[str, Any]]) -> str:
    """The rows as JSON text. NaN and infinities become null, as SQLite stores them in a float
    column (and neither JSON nor a PostgreSQL json value can hold them). What orjson refuses
    (integers beyond 64 bits, keys that are not text, lone surrogates) goes through the json
    module, which writes big integers and keys as PostgreSQL expects and leaves the server to
    refuse a surrogate as before."""
    try:
        return orjson.dumps(document, default=json_value).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(document, default=json_value)


def json_value(value: Any) -> Any:
    """What json cannot encode itself: datetimes as ISO 8601 (with their offset), the rest
    (lazy strings, decimals, UUIDs) as text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
