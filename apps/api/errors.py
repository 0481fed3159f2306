"""API errors: every failure is JSON `{"code", "message"}` (plus details), never HTML."""

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

# The code sent for a status when nothing more specific applies.
STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid_request",
    429: "throttled",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(Exception):
    """Raised by an endpoint to answer with a JSON error."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def error_body(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **details}


def error_response(status: int, code: str, message: str, **details: Any) -> JsonResponse:
    return JsonResponse(error_body(code, message, **details), status=status)


def not_found(what: str, name: object) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found: {name}")


@csrf_exempt  # else a POST to a mistyped path gets Django's HTML CSRF page, not this 404
def unknown_path(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """The last /api/ route: any path no endpoint claimed."""
    path = request.path
    other = path.rstrip("/") if path.endswith("/") else path + "/"
    hint = f"; did you mean {other}?" if _is_endpoint(other) else ""
    return error_response(404, "not_found", f"no API endpoint at {path}{hint} (see /api/docs)")


def _is_endpoint(path: str) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.func is not unknown_path


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """handler500: JSON under /api/ (the webhooks are plain Django views), else Django's page."""
    if request.path.startswith("/api/"):
        message = "internal error; the server log has the details"
        return error_response(500, "internal_error", message)
    return defaults.server_error(request)


def bad_request(
    request: HttpRequest, exception: Exception, *args: Any, **kwargs: Any
) -> HttpResponse:
    """handler400 (e.g. a request Django refuses before any view): JSON under /api/."""
    if request.path.startswith("/api/"):
        return error_response(400, "bad_request", "the request is malformed")
    return defaults.bad_request(request, exception)
