"""What a run leaves behind: storable values, the heartbeat of a live run, and the one result
shape that the CLI's --json, the HTTP API and the admin all show."""

import json
import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from apps.common.redact import redact

from .models import PipelineRun, RunStatus
from .outcomes import notification_summary

logger = logging.getLogger(__name__)


def to_json_value(value: Any) -> Any:
    """A JSON-safe copy (datetimes and decimals become strings)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, default=str))


def run_input(payload: Any) -> Any:
    """A run's input as stored: redacted and JSON-safe, whole. A queued, resumed or replayed
    run executes from it, so it is never cut to a preview (each entry point caps its own
    input: INGEST_MAX_BODY_BYTES, the command's file limit, the API's body limit)."""
    try:
        json.dumps(payload)
    except (TypeError, ValueError):  # datetimes, decimals, ...: normalise first
        payload = to_json_value(payload)
    return redact(payload)


def storable(value: Any) -> Any:
    """Redacted, JSON-safe and capped in size: what goes into a record of what a run did."""
    try:
        size = len(json.dumps(value))
    except (TypeError, ValueError):  # datetimes, decimals, ...: normalise first
        value = to_json_value(value)
        size = len(json.dumps(value))
    safe = redact(value)
    if size > settings.PIPELINE_OUTPUT_MAX_BYTES:
        size = len(json.dumps(safe))
    if size > settings.PIPELINE_OUTPUT_MAX_BYTES:
        return {
            "truncated": True,
            "size_bytes": size,
            "preview": json.dumps(safe)[: min(2000, settings.PIPELINE_OUTPUT_MAX_BYTES)],
        }
    return safe


class Heartbeat:
    """Keeps run.heartbeat_at fresh while a run executes, so that a sweep or another worker can
    tell a live run from one whose worker died. One shared thread serves every run of the
    process; a run shorter than PIPELINE_HEARTBEAT_S never gets a heartbeat write."""

    _active: dict[int, float] = {}
    _lock = threading.Lock()
    _thread: threading.Thread | None = None

    def __init__(self, run: PipelineRun):
        self.run_id = run.pk

    def __enter__(self) -> "Heartbeat":
        with Heartbeat._lock:
            Heartbeat._active[self.run_id] = time.monotonic()
            if Heartbeat._thread is None or not Heartbeat._thread.is_alive():
                Heartbeat._thread = threading.Thread(
                    target=Heartbeat._beat, daemon=True, name="run-heartbeat"
                )
                Heartbeat._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        with Heartbeat._lock:
            Heartbeat._active.pop(self.run_id, None)

    @staticmethod
    def _beat() -> None:
        from django.db import connection

        period = settings.PIPELINE_HEARTBEAT_S
        while True:
            time.sleep(period)
            with Heartbeat._lock:
                due = [
                    rid
                    for rid, since in Heartbeat._active.items()
                    if time.monotonic() - since >= period
                ]
            if not due:
                continue
            try:
                PipelineRun.objects.filter(pk__in=due, status=RunStatus.RUNNING).update(
                    heartbeat_at=timezone.now()
                )
            except Exception:
                logger.exception("heartbeat of runs %s failed", due)
                connection.close()


def node_dict(node: Any) -> dict[str, Any]:
    item = {
        "id": node.node_id,
        "type": node.node_type,
        "status": node.status,
        "attempts": node.attempts,
        "duration_ms": node.duration_ms,
        # NodeState knows its recorded output; a StageExecution is its record.
        "output": getattr(node, "stored_output", node.output),
        "error": node.error or None,
    }
    if node.reason:
        item["reason"] = node.reason
    return item


def outcome(status: str, failed_nodes: list[str] | None) -> str:
    """The status in words, naming failed nodes: "COMPLETED with 1 failed node: page"."""
    if status != RunStatus.COMPLETED or not failed_nodes:
        return str(status)
    return f"{status} with {failed_count(failed_nodes)}"


def failed_count(failed_nodes: list[str]) -> str:
    """ "1 failed node: page", "2 failed nodes: page, mail"."""
    plural = "s" if len(failed_nodes) > 1 else ""
    return f"{len(failed_nodes)} failed node{plural}: {', '.join(failed_nodes)}"


def result_dict(run: PipelineRun, nodes: list[Any]) -> dict[str, Any]:
    """The one result shape: CLI --json, the HTTP API and the admin all use it."""
    result = {
        "run_id": run.pk,
        "trace_id": run.trace_id,
        "status": run.status,
        "definition": run.definition_name or None,
        "config_path": run.config_path or None,
        "definition_version": run.definition_version,
        "source": run.source,
        "environment": run.environment,
        "incident_id": run.incident_id,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_ms": run.duration_ms,
        "error": run.error or None,
        "failed_nodes": list(run.failed_nodes or []),
        "outcome": outcome(run.status, run.failed_nodes),
        "nodes": [node_dict(node) for node in nodes],
    }
    if run.replay_of_id:
        result["replay_of"] = run.replay_of_id
    # Pages sent, failed and not sent (throttled, silenced...), so no view reads them as sent.
    notifications = notification_summary(result["nodes"])
    if notifications is not None:
        result["notifications"] = notifications
    return result


def stored_result(run: PipelineRun) -> dict[str, Any]:
    """The result of a stored run, from its records."""
    stages = list(run.stages.all().order_by("position", "id"))
    return result_dict(run, stages)
