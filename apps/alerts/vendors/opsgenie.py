"""Opsgenie outgoing webhook: one alert action (Create, Acknowledge, Close, ...) per body."""

from __future__ import annotations

from typing import Any

from .base import (
    NormalizedAlert,
    PayloadError,
    Severity,
    Status,
    first_text,
    id_fingerprint,
    labels_from_tags,
    parse_time,
    require_dict,
    require_text,
    text,
)
from .fields import Notes, severity_noted

SOURCE = "opsgenie"

RESOLVING_ACTIONS = frozenset({"close", "delete"})
PRIORITY: dict[str, Severity] = {
    "p1": "critical",
    "p2": "critical",
    "p3": "warning",
    "p4": "info",
    "p5": "info",
    "1": "critical",
    "2": "critical",
    "3": "warning",
    "4": "info",
    "5": "info",
}


def detect(payload: Any) -> bool:
    return (
        isinstance(payload, dict)
        and isinstance(payload.get("action"), str)
        and isinstance(payload.get("alert"), dict)
        and any(key in payload["alert"] for key in ("alertId", "alias", "tinyId"))
    )


def parse(payload: Any) -> list[NormalizedAlert]:
    body = require_dict(payload, "opsgenie payload")
    action = require_text(body.get("action"), "opsgenie action")
    alert = require_dict(body.get("alert"), "opsgenie alert")
    notes = Notes()
    id_field = "alertId"
    if not text(alert.get("alertId")) and not isinstance(alert.get("alertId"), dict | list):
        id_field = next((key for key in ("alias", "tinyId") if text(alert.get(key))), "")
        if not id_field:
            raise PayloadError("opsgenie alert has no alertId, alias or tinyId")
        notes.add(f"no alert.alertId: identified by alert.{id_field}")
    alert_id = require_text(alert.get(id_field), f"opsgenie alert.{id_field}")
    verb = action.lower()
    status: Status = "resolved" if verb in RESOLVING_ACTIONS else "firing"
    source_field = text(alert.get("source"))
    # alert.source is often the e-mail of the person or the API key that created the alert.
    host = first_text(alert.get("entity"), "" if "@" in source_field else source_field)
    labels = labels_from_tags(alert.get("tags"))
    labels.update({key: text(alert[key]) for key in ("alias", "tinyId") if text(alert.get(key))})
    return [
        notes.attach(
            NormalizedAlert(
                # Some actions (Escalate) carry only the id: the name is a placeholder then.
                name=first_text(alert.get("message"), f"Opsgenie alert {alert_id}"),
                status=status,
                severity=severity_noted(alert.get("priority"), notes, PRIORITY, "alert.priority"),
                started_at=parse_time(alert.get("createdAt"), "alert.createdAt"),
                ended_at=(
                    parse_time(alert.get("updatedAt"), "alert.updatedAt")
                    if status == "resolved"
                    else None
                ),
                fingerprint=id_fingerprint(alert_id),
                fingerprint_fields=[f"alert.{id_field}"],
                host=host,
                description=text(alert.get("description")),
                labels=labels,
                annotations={
                    key: value
                    for key, value in {
                        "action": action,
                        "integrationName": text(body.get("integrationName")),
                        "escalationName": text(body.get("escalationName")),
                    }.items()
                    if value
                },
                source=SOURCE,
                action="" if verb in ("create", *RESOLVING_ACTIONS) else verb,
            )
        )
    ]
