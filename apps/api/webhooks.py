"""Webhooks: POST /api/alerts/<source>/ and POST /api/alerts/ (auto-detect).

Plain Django views rather than django-ninja ones, for speed; webhooks_openapi.py describes them
in the API's OpenAPI document."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.db import DataError, IntegrityError, OperationalError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from apps.alerts.services import CHECKS_SOURCE, IngestError, TestReceived
from apps.common import jsonio
from apps.common.auth import AuthError, authenticate, json_error
from apps.common.logging import run_context
from apps.common.text import one_line
from apps.orchestration.triggers import ingest_and_start

logger = logging.getLogger(__name__)


class Rejected(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> JsonResponse:
        response = json_error(self.status, self.code, self.message)
        if self.status == 405:
            response["Allow"] = "POST"
        return response


def busy(what: str) -> JsonResponse:
    """503 for lock timeouts, deadlocks or a second conflict: the sender should retry."""
    response = json_error(503, "busy", f"the database is busy; {what}")
    response["Retry-After"] = "1"
    return response


STORAGE_FAILURES = ("full", "readonly", "read-only", "no space", "disk i/o")


def storage_failure(exc: Exception) -> bool:
    """A database write refused for lack of disk or a read-only file system (not a lock)."""
    text = str(exc).lower()
    return any(word in text for word in STORAGE_FAILURES)


def unavailable(code: str, message: str) -> JsonResponse:
    response = json_error(503, code, one_line(message, 200))
    response["Retry-After"] = "60"
    return response


@csrf_exempt
def receive(request: HttpRequest, source: str | None = None) -> JsonResponse:
    trace_id = uuid.uuid4().hex
    with run_context(trace_id, None):
        try:
            if request.method != "POST":
                raise Rejected(405, "method_not_allowed", "send alerts with POST")
            check_source(source)
            authenticate(request, "ingest")
            payload = read_json(request)
            return accept(payload, source, trace_id)
        except AuthError as exc:
            return exc.response()
        except Rejected as exc:
            return exc.response()
        except TestReceived as exc:  # 200: the vendor's "send a test" shows success
            return JsonResponse({"trace_id": trace_id, "test": True, "detail": str(exc)})
        except IngestError as exc:
            return json_error(400, "rejected_payload", str(exc))
        except DataError as exc:  # a value the database refuses; the transaction rolled back
            logger.info("ingest refused by the database: %s", exc)
            return json_error(
                400,
                "rejected_payload",
                "the payload holds a value the database "
                "refuses (too long, or a character it cannot store)",
            )
        except (IntegrityError, OperationalError) as exc:
            logger.warning("ingest could not write: %s", exc)
            if storage_failure(exc):
                return unavailable("storage", f"the server cannot store alerts: {exc}")
            return busy("retry the webhook")


def check_source(source: str | None) -> None:
    from apps.alerts.vendors import vendor_names

    if source is not None and source not in vendor_names() and source != CHECKS_SOURCE:
        known = ", ".join(vendor_names())
        raise Rejected(404, "unknown_source", f"no vendor {source!r}; known vendors: {known}")


def read_json(request: HttpRequest, limit: int | None = None, too_large: int = 413) -> Any:
    """The request's JSON body, within `limit` bytes (INGEST_MAX_BODY_BYTES by default); a
    larger body is refused with status `too_large`."""
    limit = settings.INGEST_MAX_BODY_BYTES if limit is None else limit
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Rejected(400, "bad_request", "Content-Length is not a number") from None
    if declared > limit:
        raise Rejected(too_large, "too_large", f"the body is over the {limit}-byte limit")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise Rejected(too_large, "too_large", f"the body is over the {limit}-byte limit")
    if not body.strip():
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            raise Rejected(
                411, "length_required", "chunked bodies are not supported; send a Content-Length"
            )
        raise Rejected(400, "invalid_json", "the body is empty; send a JSON object")
    try:
        # RFC 8259 lets a reader ignore a byte order mark; some senders' HTTP clients add one
        return jsonio.loads(body.decode("utf-8").removeprefix("\ufeff"))
    except UnicodeDecodeError:
        raise Rejected(400, "invalid_json", "the body is not UTF-8 text") from None
    except jsonio.JsonInputError as exc:
        raise Rejected(400, "invalid_json", f"the body is not valid JSON: {exc}") from None


def accept(payload: Any, source: str | None, trace_id: str) -> JsonResponse:
    triggered = ingest_and_start(payload, source, trace_id)
    result = triggered.result
    body: dict[str, Any] = {
        "trace_id": trace_id,
        "source": result.source,
        "alerts": result.counts,
        "incidents": [incident.pk for incident in result.incidents],
        "runs": triggered.run_ids,
    }
    if triggered.run_errors:
        body["run_errors"] = triggered.run_errors
    return JsonResponse(body, status=202)
