"""Webhooks: POST /api/alerts/<source>/ and POST /api/alerts/ (auto-detect)."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from django.conf import settings
from django.db import DatabaseError, DataError, IntegrityError, OperationalError, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from apps.alerts import routing
from apps.alerts.services import (
    CHECKS_SOURCE,
    IngestError,
    IngestResult,
    prepare_payload,
    store,
    write_turn,
)
from apps.common import jsonio
from apps.common.auth import AuthError, authenticate, json_error
from apps.common.logging import run_context

logger = logging.getLogger(__name__)


class Rejected(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


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
            response = json_error(exc.status, exc.code, exc.message)
            if exc.status == 405:
                response["Allow"] = "POST"
            return response
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
            # Lock timeouts, deadlocks or a second conflict: the sender should retry.
            logger.warning("ingest could not write: %s", exc)
            response = json_error(503, "busy", "the database is busy; retry the webhook")
            response["Retry-After"] = "1"
            return response


def check_source(source: str | None) -> None:
    from apps.alerts.vendors import vendor_names

    if source is not None and source not in vendor_names() and source != CHECKS_SOURCE:
        known = ", ".join(vendor_names())
        raise Rejected(404, "unknown_source", f"no vendor {source!r}; known vendors: {known}")


def read_json(request: HttpRequest) -> Any:
    limit = settings.INGEST_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Rejected(400, "bad_request", "Content-Length is not a number") from None
    if declared > limit:
        raise Rejected(413, "too_large", f"the body is over the {limit}-byte limit")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise Rejected(413, "too_large", f"the body is over the {limit}-byte limit")
    if not body.strip():
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            raise Rejected(
                411, "length_required", "chunked bodies are not supported; send a Content-Length"
            )
        raise Rejected(400, "invalid_json", "the body is empty; send a JSON object")
    try:
        return jsonio.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise Rejected(400, "invalid_json", "the body is not UTF-8 text") from None
    except jsonio.JsonInputError as exc:
        raise Rejected(400, "invalid_json", f"the body is not valid JSON: {exc}") from None


def accept(payload: Any, source: str | None, trace_id: str) -> JsonResponse:
    run_ids: list[int] = []
    run_errors: list[str] = []
    prepared = prepare_payload(payload, source)  # parse before taking the write lock
    with write_turn(), transaction.atomic():
        result = store(prepared.source, prepared.items, trace_id=trace_id)
        if settings.INGEST_START_RUNS and result.changed:
            run_ids, run_errors = start_runs(result, payload, trace_id, prepared.group_keys)
        if run_ids:
            transaction.on_commit(lambda: dispatch_runs(run_ids))
    body: dict[str, Any] = {
        "trace_id": trace_id,
        "source": result.source,
        "alerts": result.counts,
        "incidents": [incident.pk for incident in result.incidents],
        "runs": run_ids,
    }
    if run_errors:
        body["run_errors"] = run_errors
    return JsonResponse(body, status=202)


def start_runs(
    result: IngestResult, payload: Any, trace_id: str, group_keys: list[str] | None = None
) -> tuple[list[int], list[str]]:
    """Create one PENDING run per changed incident; they execute after the response.

    group_keys: the group key of each alert of the payload, in order (Prepared.group_keys);
    they let a payload too large to store whole give every run its own alerts."""
    from apps.orchestration.engine import storable
    from apps.orchestration.services import create_run

    definitions = routing.routable_definitions()
    stored_payload = storable(payload)  # once for all runs of this webhook
    slices: dict[str, Any] = {}
    if is_truncated(stored_payload):  # too large to keep whole: give each run its own alerts
        wanted = {incident.group_key for incident, _ in result.changed}
        slices = RunPayloads(payload, group_keys or []).by_group_key(wanted)
    run_ids, errors = [], []
    for incident, reason in result.changed:
        trigger = result.triggers.get(incident.pk)
        labels = trigger.labels if trigger else {}
        severity = trigger.severity if trigger else incident.severity
        route = routing.choose(result.source, severity, labels, definitions)
        try:
            with transaction.atomic():
                run = create_run(
                    route.definition, payload, source=result.source,
                    environment="production", trace_id=trace_id, incident=incident,
                    stored_payload=slices.get(incident.group_key, stored_payload),
                )  # fmt: skip
        except (DatabaseError, ValueError) as exc:
            # The alerts stay stored; the sender sees which incident got no run and why.
            logger.error("could not start a run for incident %s: %s", incident.pk, exc)
            errors.append(f"incident {incident.pk} ({reason}): {exc}")
            continue
        run_ids.append(run.pk)
    return run_ids, errors


def is_truncated(stored: Any) -> bool:
    return isinstance(stored, dict) and stored.get("truncated") is True and "preview" in stored


class RunPayloads:
    """Per-incident copies of a webhook body too large to store whole with every run.

    A body with an `alerts` list (Alertmanager, Grafana, the generic list) is cut into one copy
    per group key: the envelope (every other key, within ENVELOPE_BUDGET bytes) plus that
    incident's own alerts. Each part is redacted once, however many runs share it.
    """

    ENVELOPE_BUDGET = 4096

    def __init__(self, payload: Any, group_keys: list[str]) -> None:
        self.payload = payload
        self.group_keys = group_keys

    def by_group_key(self, wanted: set[str]) -> dict[str, Any]:
        """A payload for each group key in `wanted` (the incidents that start runs)."""
        from django.conf import settings as django_settings

        from apps.common.redact import redact
        from apps.orchestration.engine import storable

        alerts = self.payload.get("alerts") if isinstance(self.payload, dict) else None
        if not isinstance(alerts, list) or len(alerts) != len(self.group_keys):
            return {}  # no list to cut, or alerts the parser merged or skipped: keep the preview
        envelope = self._envelope(redact)
        parts: dict[str, list[Any]] = {}
        for key, alert in zip(self.group_keys, alerts, strict=True):
            if key in wanted:
                parts.setdefault(key, []).append(redact(alert))
        limit = django_settings.PIPELINE_OUTPUT_MAX_BYTES
        slices = {}
        for key, own in parts.items():
            whole = {**envelope, "alerts": own}
            if len(json.dumps(whole, default=str)) <= limit:
                slices[key] = whole
            else:  # the alerts alone, else the truncated preview: still a dict, never a list
                bare = {"alerts": own, "omitted_keys": self._envelope_keys()}
                slices[key] = storable(bare)
        return slices

    def _envelope_keys(self) -> list[str]:
        return [key for key in self.payload if key != "alerts"]

    def _envelope(self, redact: Any) -> dict[str, Any]:
        """The other top-level keys, smallest first, within the budget; the rest are named in
        `omitted_keys` so a template author can tell why a key is missing."""
        sized = sorted(
            ((len(json.dumps(value, default=str)), key)
             for key, value in self.payload.items() if key != "alerts"),
            key=lambda entry: entry[0],
        )  # fmt: skip
        kept, omitted, used = set(), [], 0
        for size, key in sized:
            if used + size <= self.ENVELOPE_BUDGET:
                kept.add(key)
                used += size
            else:
                omitted.append(key)
        envelope = {key: value for key, value in self.payload.items() if key in kept}
        if omitted:
            envelope["omitted_keys"] = omitted
        return redact(envelope)


def dispatch_runs(run_ids: list[int]) -> None:
    from apps.orchestration.services import dispatch

    try:
        dispatch(run_ids)
    except Exception:  # the runs stay PENDING for the stuck-run sweeper; the webhook succeeded
        logger.exception("could not dispatch runs %s", run_ids)
