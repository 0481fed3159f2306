"""/api/incidents: what is open, one incident's whole story, acknowledge and resolve."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from apps.alerts.actions import REASON_MAX, ActionError, Actor, acknowledge, resolve
from apps.alerts.models import Incident
from apps.alerts.queries import MAX_LIMIT, FilterError, IncidentFilters, incident_page
from apps.api.auth import READ, WRITE
from apps.api.errors import ApiError, not_found
from apps.api.schemas import ErrorOut
from apps.orchestration.incident_story import incident_detail, incident_story

router = Router(tags=["incidents"])
ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422)}
MAX_ID = 2**63 - 1
ACTION_STATUS = {
    "not_found": 404,
    "conflict": 409,
    "invalid_status": 422,
    "comment_required": 422,
    "invalid_comment": 422,
}


class ActionIn(Schema):
    comment: str = Field(
        "",
        max_length=REASON_MAX,
        description="Why; kept on the incident's timeline (required to resolve).",
    )


def get_incident(incident_id: int) -> Incident:
    incident = (
        Incident.objects.filter(pk=incident_id).first() if 0 < incident_id <= MAX_ID else None
    )
    if incident is None:
        raise not_found("incident", incident_id)
    return incident


@router.get("", auth=READ, response={200: dict[str, Any], **ERRORS})
def list_incidents(
    request: HttpRequest,
    status: str = Query("active", description="open, acknowledged, resolved, active or all."),
    host: str = "",
    source: str = "",
    severity: str = Query("", description="critical, warning or info."),
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=2**31),
):
    """Worst first, as `{"items": [...], "count": N, "by_severity": {...}}` (count and
    by_severity cover every incident the filters match, not only this page)."""
    try:
        filters = IncidentFilters.parse(status, host, source, severity)
    except FilterError as exc:
        raise ApiError(422, "invalid_filter", str(exc)) from None
    page = incident_page(filters, limit=limit, offset=offset)
    return {"items": page.rows, "count": page.total, "by_severity": page.by_severity}


@router.get("/{int:incident_id}", auth=READ, response={200: dict[str, Any], **ERRORS})
def read_incident(request: HttpRequest, incident_id: int):
    """The incident with its alerts, runs (nodes with status and duration), analyses (the
    latest in full), deliveries, host facts and one timeline merging them, newest first."""
    return incident_story(get_incident(incident_id))


def act(request: HttpRequest, incident_id: int, body: ActionIn | None, action: Any) -> dict:
    get_incident(incident_id)
    actor = Actor(f"key:{request.auth.name}", "api")  # type: ignore[attr-defined]
    try:
        event = action(incident_id, actor, body.comment if body else "")
    except ActionError as exc:
        raise ApiError(ACTION_STATUS.get(exc.code, 409), exc.code, str(exc)) from None
    detail = incident_detail(Incident.objects.get(pk=incident_id))
    detail["event"] = {"id": event.pk, "reason": event.reason, "actor": event.actor}
    return detail


@router.post("/{int:incident_id}/ack", auth=WRITE, response={200: dict[str, Any], **ERRORS})
def ack_incident(request: HttpRequest, incident_id: int, body: ActionIn | None = None):
    """Acknowledge an open incident; 409 when it is not open."""
    return act(request, incident_id, body, acknowledge)


@router.post("/{int:incident_id}/resolve", auth=WRITE, response={200: dict[str, Any], **ERRORS})
def resolve_incident(request: HttpRequest, incident_id: int, body: ActionIn | None = None):
    """Resolve an open or acknowledged incident; 409 when it is already resolved."""
    return act(request, incident_id, body, resolve)
