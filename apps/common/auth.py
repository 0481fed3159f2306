"""API key authentication for every /api/ endpoint: `Authorization: Bearer <key>`."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from apps.common.models import ApiKey

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
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ""
    return token.strip()


def authenticate(request: HttpRequest, scope: str) -> ApiKey:
    """Return the request's active API key holding `scope`; raise AuthError (401/403) if none."""
    token = bearer_token(request)
    if not token:
        raise AuthError(401, "unauthenticated", "send an API key as 'Authorization: Bearer <key>'")
    key = ApiKey.lookup(token)
    if key is None:
        raise AuthError(401, "invalid_key", "the API key is unknown or has been deactivated")
    if not key.has_scope(scope):
        raise AuthError(403, "missing_scope", f"the API key {key.name!r} lacks the {scope!r} scope")
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key
