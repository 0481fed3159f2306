"""API key authentication for every /api/ endpoint: `Authorization: Bearer <key>`."""

from __future__ import annotations

import weakref
from datetime import timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from apps.common.models import ApiKey, hash_key

# last_used_at is refreshed at most this often, so busy keys do not cost a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class AuthError(Exception):
    """The request is not allowed; `response()` is the JSON answer to send."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> JsonResponse:
        response = json_error(self.status, self.code, self.message)
        if self.status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response


def json_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status)


def bearer_token(request: HttpRequest) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")  # not request.headers: it copies them all
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ""
    return token.strip()


def authenticate(request: HttpRequest, scope: str) -> ApiKey:
    """Return the request's active API key holding `scope`; raise AuthError (401/403) if none."""
    token = bearer_token(request)
    if not token:
        raise AuthError(401, "unauthenticated", "send an API key as 'Authorization: Bearer <key>'")
    key = active_key(token)
    if key is None:
        raise AuthError(401, "invalid_key", "the API key is unknown or has been deactivated")
    if not key.has_scope(scope):
        raise AuthError(403, "missing_scope", f"the API key {key.name!r} lacks the {scope!r} scope")
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def active_key(raw_key: str) -> ApiKey | None:
    """The active key with this raw value, or None: ApiKey.lookup in one plain SELECT.

    Every webhook authenticates, and building the ORM query cost more than the rest of the
    request's reads. Values go through the same converters the ORM applies. Nothing is
    cached but the SQL text, so a key deactivated in any process is refused on its very
    next request.
    """
    db = connections[DEFAULT_DB_ALIAS]
    sql, columns = key_query(db)
    with db.cursor() as cursor:
        cursor.execute(sql, [hash_key(raw_key), True])
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for (column, converters), value in zip(columns, row, strict=True):
        for convert in converters:
            value = convert(value, column, db)
        values.append(value)
    return ApiKey.from_db(db.alias, None, values)


# connection -> (SQL, [(column expression, its converters)]), built once per connection.
_KEY_QUERIES: weakref.WeakKeyDictionary[Any, tuple[str, list[tuple[Any, list]]]] = (
    weakref.WeakKeyDictionary()
)


def key_query(db: Any) -> tuple[str, list[tuple[Any, list]]]:
    if db not in _KEY_QUERIES:
        table = ApiKey._meta.db_table
        fields = ApiKey._meta.concrete_fields
        quote = db.ops.quote_name
        sql = "SELECT {} FROM {} WHERE {} = %s AND {} = %s".format(  # noqa: S608 - model names
            ", ".join(quote(field.column) for field in fields),
            quote(table),
            quote("key_hash"),
            quote("is_active"),
        )
        columns = []
        for field in fields:  # backend converters first, then the field's: as the ORM does
            column = field.get_col(table)
            columns.append(
                (column, [*db.ops.get_db_converters(column), *column.get_db_converters(db)])
            )
        _KEY_QUERIES[db] = (sql, columns)
    return _KEY_QUERIES[db]
