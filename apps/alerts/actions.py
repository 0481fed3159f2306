"""What people do to an incident: acknowledge, resolve, or note an action on its timeline.

The one path for a status change made by a person, whichever door they came through (the
console, `manage.py incidents`, the API, the admin): it sets `acknowledged_at`/`resolved_at`
and writes an IncidentEvent naming who did it, from where and why, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from apps.alerts.models import ACTIVE_STATUSES, Incident, IncidentEvent

VIAS = ("web", "cli", "api", "admin")
REASON_MAX = 2000

# What each action may start from; anything else is refused with a one-line reason.
ALLOWED_FROM = {
    Incident.Status.ACKNOWLEDGED: (Incident.Status.OPEN,),
    Incident.Status.RESOLVED: (Incident.Status.OPEN, Incident.Status.ACKNOWLEDGED),
    Incident.Status.OPEN: (Incident.Status.ACKNOWLEDGED, Incident.Status.RESOLVED),
}
VERBS = {
    Incident.Status.ACKNOWLEDGED: "acknowledged",
    Incident.Status.RESOLVED: "resolved",
    Incident.Status.OPEN: "reopened",
}


class ActionError(Exception):
    """The action cannot be done (one line); `code` is stable for the API."""

    def __init__(self, message: str, code: str = "not_allowed") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Actor:
    """Who acts and through which door."""

    name: str
    via: str

    def __post_init__(self) -> None:
        if self.via not in VIAS:
            raise ValueError(f"via must be one of {', '.join(VIAS)}, not {self.via!r}")

    def label(self) -> str:
        return f"{self.name or 'someone'} ({self.via})"


def checked_reason(to_status: str, reason: str) -> str:
    """The comment as recorded; resolving needs one (the next person reads why), and every door
    has the same limit. Raises ActionError otherwise."""
    why = (reason or "").strip()
    if len(why) > REASON_MAX:
        raise ActionError(f"the comment is longer than {REASON_MAX} characters", "invalid_comment")
    if to_status == Incident.Status.RESOLVED and not why:
        raise ActionError("resolving needs a comment saying why", "comment_required")
    return why


def acknowledge(incident_id: int, actor: Actor, reason: str = "") -> IncidentEvent:
    return change_status(incident_id, Incident.Status.ACKNOWLEDGED, actor, reason)


def resolve(incident_id: int, actor: Actor, reason: str = "") -> IncidentEvent:
    return change_status(incident_id, Incident.Status.RESOLVED, actor, reason)


def change_status(
    incident_id: int, to_status: str, actor: Actor, reason: str = ""
) -> IncidentEvent:
    """Move an incident to `to_status`; raises ActionError when it does not exist or cannot."""
    if to_status not in ALLOWED_FROM:
        raise ActionError(f"unknown status {to_status!r}", "invalid_status")
    with transaction.atomic():
        incident = Incident.objects.select_for_update().filter(pk=incident_id).first()
        if incident is None:
            raise ActionError(f"incident {incident_id} does not exist", "not_found")
        if incident.status not in ALLOWED_FROM[to_status]:
            raise ActionError(
                f"incident {incident_id} is {incident.status}; it cannot be {VERBS[to_status]}",
                "conflict",
            )
        return apply_status(incident, incident.status, to_status, actor, reason)


def apply_status(
    incident: Incident, from_status: str, to_status: str, actor: Actor, reason: str = ""
) -> IncidentEvent:
    """Record a change already decided (the admin's form set `incident.status` itself)."""
    why = checked_reason(to_status, reason)
    if to_status == Incident.Status.OPEN and from_status == Incident.Status.RESOLVED:
        clash = reopen_clash(incident)
        if clash:
            raise ActionError(
                f"incident {clash} is already active for this group; it cannot be reopened",
                "conflict",
            )
    now = timezone.now()
    incident.status = to_status
    incident.updated_at = now
    if to_status == Incident.Status.ACKNOWLEDGED:
        incident.acknowledged_at = now
    elif to_status == Incident.Status.RESOLVED:
        incident.resolved_at = now
    else:
        incident.resolved_at = None
        incident.acknowledged_at = None
    incident.save(update_fields=["status", "updated_at", "acknowledged_at", "resolved_at"])
    text = f"{VERBS[to_status]} by {actor.label()}" + (f": {why}" if why else "")
    return IncidentEvent.objects.create(
        incident=incident,
        from_status=from_status,
        to_status=to_status,
        reason=text,
        actor=actor.name[:150],
        via=actor.via,
        created_at=now,
    )


def reopen_clash(incident: Incident) -> int | None:
    """The active incident of the same group key, which makes reopening this one impossible
    (the one-active-incident-per-group rule), or None."""
    if not incident.group_key:
        return None
    return (
        Incident.objects.filter(group_key=incident.group_key, status__in=ACTIVE_STATUSES)
        .exclude(pk=incident.pk)
        .values_list("pk", flat=True)
        .first()
    )


def note(incident: Incident, actor: Actor, text: str) -> IncidentEvent:
    """An action that changes no status (run again, resume) on the incident's timeline."""
    return IncidentEvent.objects.create(
        incident=incident,
        from_status=incident.status,
        to_status=incident.status,
        reason=f"{text[:REASON_MAX]} by {actor.label()}",
        actor=actor.name[:150],
        via=actor.via,
    )
