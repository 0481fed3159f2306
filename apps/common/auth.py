"""API key authentication for every /api/ endpoint: `Authorization: Bearer <key>`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from apps.common.models import ApiKey, hash_key
from apps.common.plain_select import instance_from_row

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
    with db.cursor() as cursor:
        cursor.execute(key_query(db), [hash_key(raw_key), True])
        row = cursor.fetchone()
    if row is None:
        return None
    return instance_from_row(db, ApiKey, KEY_COLUMNS, row)


KEY_COLUMNS = tuple(field.attname for field in ApiKey._meta.concrete_fields)
_KEY_QUERIES: dict[str, str] = {}  # backend vendor -> SQL


def key_query(db: Any) -> str:
    if db.vendor not in _KEY_QUERIES:
        quote = db.ops.quote_name
        fields = ApiKey._meta.concrete_fields
        _KEY_QUERIES[db.vendor] = "SELECT {} FROM {} WHERE {} = %s AND {} = %s".format(  # noqa: S608 - model names
            ", ".join(quote(field.column) for field in fields),
            quote(ApiKey._meta.db_table),
            quote("key_hash"),
            quote("is_active"),
        )
    return _KEY_QUERIES[db.vendor]
