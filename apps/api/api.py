"""The NinjaAPI: routers, and JSON errors with a stable code for every failure."""

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DataError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern
from django.views.decorators.http import require_safe
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger
from ninja.parser import Parser

from apps.api.errors import STATUS_CODES, ApiError, error_response, unknown_path
from apps.api.routers import definitions, hosts, incidents, runs, silences
from apps.api.schemas import SINCE_PATTERN
from apps.api.webhooks_openapi import webhook_paths
from apps.common import jsonio
from apps.common.auth import AuthError
from apps.orchestration.models import RunStatus

logger = logging.getLogger(__name__)


class LocalSwagger(Swagger):
    """Swagger UI from the package's own assets (served by WhiteNoise), never from a CDN."""

    def render_page(self, request, api, **kwargs):  # type: ignore[no-untyped-def]
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        context = {
            "swagger_settings": json.dumps(self.settings, indent=1),
            "api": api,
            "add_csrf": False,
        }
        return render(request, self.template, context)


def any_case(words: list[str]) -> str:
    """A JSON Schema pattern matching one of words in any letter case (no inline flags there)."""
    spelled = ("".join(f"[{c.upper()}{c.lower()}]" for c in word) for word in words)
    return rf"^\s*({'|'.join(spelled)})?\s*$"


class StrictJsonParser(Parser):
    """Request bodies read like the webhooks read theirs (apps.common.jsonio): NaN, Infinity,
    1e999, integers beyond Python's digit limit, NUL characters and lone surrogates are a 400
    with the reason, never a value that fails later in the database."""

    def parse_body(self, request: HttpRequest) -> Any:
        try:
            return jsonio.loads(request.body.decode("utf-8"))
        except UnicodeDecodeError:
            request.body_problem = "the body is not UTF-8 text"  # type: ignore[attr-defined]
            raise
        except jsonio.JsonInputError as exc:
            request.body_problem = str(exc)  # type: ignore[attr-defined]
            raise


class IncidentApi(NinjaAPI):
    """The API, whose OpenAPI document also describes the webhooks (plain Django views)."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        schema["paths"].update(webhook_paths())
        # The document only: the server checks these filters itself, with errors of its own
        # (and reads any letter case, spaces around, and empty as no filter).
        from apps.alerts.queries import STATUS_CHOICES
        from apps.common.severity import SEVERITIES

        patterns = {
            ("/api/runs/", "since"): SINCE_PATTERN,
            ("/api/runs/", "status"): any_case(RunStatus.values),
            ("/api/incidents", "status"): any_case([*STATUS_CHOICES, "active", "all"]),
            ("/api/incidents", "severity"): any_case(list(SEVERITIES)),
        }
        for (path, name), pattern in patterns.items():
            for parameter in schema["paths"][path]["get"]["parameters"]:
                if parameter["name"] == name:
                    parameter["schema"] = {"type": "string", "pattern": pattern}
        # Any operation that reads a body answers 400 to one that is not JSON it accepts.
        for operations in schema["paths"].values():
            for operation in operations.values():
                responses = operation.get("responses", {})
                if "requestBody" in operation and "400" not in responses:
                    responses["400"] = {"description": "The body is not JSON this API accepts"}
        return schema


api = IncidentApi(
    docs=LocalSwagger(),
    title="Incident pipeline API",
    version="1",
    description=(
        "Incidents, pipeline definitions and runs. "
        "Send an API key as `Authorization: Bearer <key>`; "
        "GET needs the `read` scope, changes need `write`, running needs `execute`. "
        'Every error is JSON `{"code", "message"}`.'
    ),
    urls_namespace="api",
    parser=StrictJsonParser(),
)
api.add_router("/definitions/", definitions.router)
api.add_router("/runs/", runs.router)
api.add_router("/hosts", hosts.router)
api.add_router("/incidents", incidents.router)
api.add_router("/silences", silences.router)


@api.exception_handler(ApiError)
def api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error_response(exc.status, exc.code, exc.message, **exc.details)


@api.exception_handler(AuthError)
def auth_error(request: HttpRequest, exc: AuthError) -> HttpResponse:
    response = error_response(exc.status, exc.code, exc.message)
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        401, "unauthenticated", "send an API key as 'Authorization: Bearer <key>'"
    )


def error_location(loc: Any) -> list[str]:
    """ninja's loc without the body parameter's own name: ["body", "config"], ["query", "limit"]."""
    parts = [str(part) for part in loc or ()]
    if len(parts) > 2 and parts[0] == "body":
        return ["body", *parts[2:]]
    return parts


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"loc": error_location(error.get("loc")), "message": str(error.get("msg", ""))}
        for error in exc.errors
    ]
    first = errors[0] if errors else {"loc": [], "message": "invalid request"}
    where = ".".join(first["loc"][1:]) or "request"
    return error_response(422, "invalid_request", f"{where}: {first['message']}", errors=errors)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    status = exc.status_code
    if status == 400 and str(exc).startswith("Cannot parse request body"):
        problem = getattr(request, "body_problem", "")
        message = f"the request body is not valid JSON: {problem}" if problem else ""
        return error_response(400, "invalid_json", message or "the request body is not valid JSON")
    return error_response(status, STATUS_CODES.get(status, "error"), str(exc))


@api.exception_handler(Http404)
def django_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(404, "not_found", "not found")


@api.exception_handler(RequestDataTooBig)
def too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error_response(413, "too_large", f"the request body is over the {limit}-byte limit")


@api.exception_handler(DataError)
def unstorable_value(request: HttpRequest, exc: DataError) -> HttpResponse:
    # PostgreSQL refuses NUL characters in text and JSON ("\u0000"); the transaction rolled back.
    logger.info("API request %s %s had a value the database refuses: %s", request.method,
                request.path, exc)  # fmt: skip
    return error_response(
        422,
        "invalid_request",
        "a value cannot be stored or searched by the database (NUL characters are not allowed)",
    )


@api.exception_handler(OperationalError)
def database_busy(request: HttpRequest, exc: OperationalError) -> HttpResponse:
    logger.warning("API request could not use the database: %s", exc)
    response = error_response(503, "unavailable", "the database is busy or unreachable; retry")
    response["Retry-After"] = "1"
    return response


@api.exception_handler(Exception)
def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API request %s %s failed", request.method, request.path)
    return error_response(500, "internal_error", "internal error; the server log has the details")


def json_method_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Ninja answers a wrong method with a plain-text 405; make it our JSON error."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
            allowed = response.get("Allow", "")
            response = error_response(
                405, "method_not_allowed", f"{request.method} is not allowed here; use {allowed}"
            )
            response["Allow"] = allowed
        return response

    # Keys, not cookies, authenticate the API: without this a POST to the docs views got
    # Django's HTML CSRF page.
    wrapper.csrf_exempt = True  # type: ignore[attr-defined]
    return wrapper


# ninja's docs views answer any method; they only read.
READ_ONLY_VIEWS = {"openapi-json", "openapi-view"}


def api_view(pattern: URLPattern) -> Callable[..., HttpResponse]:
    if pattern.name == "api-root":
        # ninja's root view raises a plain (HTML) 404; the schema still reverses its name.
        return unknown_path
    if pattern.name in READ_ONLY_VIEWS:
        return json_method_errors(require_safe(pattern.callback))
    return json_method_errors(pattern.callback)


def api_urls() -> tuple[list[URLPattern], str, str]:
    """The API's URL patterns for `path("api/", api_urls())`."""
    patterns, app_name, namespace = api.urls
    wrapped = [URLPattern(p.pattern, api_view(p), p.default_args, p.name) for p in patterns]
    return wrapped, app_name, namespace
