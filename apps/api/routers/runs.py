"""/api/runs/: list and read runs, resume a failed one."""

import re
from datetime import UTC, datetime, time
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from ninja import Query, Router

from apps.api.auth import EXECUTE, READ
from apps.api.errors import ApiError, not_found
from apps.api.schemas import ErrorOut
from apps.orchestration.models import PipelineRun, RunStatus
from apps.orchestration.records import result_dict, stored_result
from apps.orchestration.services import RunError, resume_run

router = Router(tags=["runs"])

MAX_LIMIT = 500
MAX_ID = 2**63 - 1  # larger ids cannot exist and overflow database integers
PLUS_LOST_RE = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")
MAX_OFFSET = MAX_ID  # a larger OFFSET overflows the database's integer
ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422)}


def run_summary(run: PipelineRun) -> dict[str, Any]:
    """The run result without its nodes, plus when it was created."""
    summary = result_dict(run, [])
    del summary["nodes"]
    summary["created_at"] = run.created_at.isoformat()
    return summary


def parse_since(text: str) -> datetime:
    """An ISO 8601 date or datetime; a naive one is taken as UTC."""
    # An unencoded "+05:00" in a query string arrives as " 05:00": read it as the offset it was.
    text = PLUS_LOST_RE.sub(r"\1+\2", text)
    try:
        moment = parse_datetime(text)
        if moment is None:
            day = parse_date(text)
            moment = datetime.combine(day, time.min) if day else None
    except ValueError:
        moment = None
    if moment is None:
        raise ApiError(
            422, "invalid_since", f"'since' is not an ISO 8601 date or datetime: {text!r}"
        )
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59-01:00 is past the last datetime in UTC
        raise ApiError(
            422, "invalid_since", f"'since' is out of the supported date range: {text!r}"
        ) from None


def get_run(run_id: int) -> PipelineRun:
    run = PipelineRun.objects.filter(pk=run_id).first() if 0 < run_id <= MAX_ID else None
    if run is None:
        raise not_found("pipeline run", run_id)
    return run


@router.get("/", auth=READ, response={200: dict[str, Any], **ERRORS})
def list_runs(
    request: HttpRequest,
    status: str | None = Query(None, description="PENDING, RUNNING, COMPLETED or FAILED."),
    definition: str | None = Query(None, description="Definition name."),
    source: str | None = None,
    since: str | None = Query(None, description="Created at or after (ISO 8601)."),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
):
    """Newest first, as `{"items": [...], "count": N}`; count is the total for the filters."""
    runs = PipelineRun.objects.all()
    wanted = (status or "").strip().upper()
    if wanted:
        if wanted not in RunStatus.values:
            raise ApiError(
                422,
                "invalid_status",
                f"unknown status {status!r}; use {', '.join(RunStatus.values)}",
            )
        runs = runs.filter(status=wanted)
    if definition:
        runs = runs.filter(definition_name=definition)
    if source:
        runs = runs.filter(source=source)
    if since is not None:  # "" too: an empty date is no date
        runs = runs.filter(created_at__gte=parse_since(since))
    runs = runs.order_by("-created_at", "-id")
    return {
        "items": [run_summary(run) for run in runs[offset : offset + limit]],
        "count": runs.count(),
    }


@router.get("/{int:run_id}", auth=READ, response={200: dict[str, Any], **ERRORS})
def read_run(request: HttpRequest, run_id: int):
    """The run in the `run_pipeline --json` shape, nodes included."""
    return stored_result(get_run(run_id))


@router.post("/{int:run_id}/resume", auth=EXECUTE, response={200: dict[str, Any], **ERRORS})
def resume(request: HttpRequest, run_id: int):
    """Re-run a FAILED run from its failed node, reusing what succeeded (same run id)."""
    run = get_run(run_id)
    if run.status != RunStatus.FAILED:
        raise ApiError(
            409, "not_resumable", f"only FAILED runs can be resumed; run {run_id} is {run.status}"
        )
    try:
        return resume_run(run_id)
    except RunError as exc:
        raise ApiError(409, "not_resumable", str(exc)) from None
