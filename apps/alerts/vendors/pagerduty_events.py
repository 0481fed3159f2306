"""PagerDuty Events API bodies (v2 ``event_action``/``payload``, v1 ``service_key``/
``event_type``): what monitoring tools send *to* PagerDuty, posted here by users who point such
a tool at this project. Part of the pagerduty vendor (not a registry entry of its own).

The routing/service key is a secret and is never kept in the alert.
"""

from __future__ import annotations

from typing import Any

from .base import (
    NormalizedAlert,
    PayloadError,
    Severity,
    Status,
    first_text,
    hash_fingerprint,
    id_fingerprint,
    optional_dict,
    parse_time,
    require_dict,
    text,
)
from .fields import Notes, severity_noted, value_text

SOURCE = "pagerduty"
ACTIONS: dict[str, tuple[Status, str]] = {
    "trigger": ("firing", ""),
    "acknowledge": ("firing", "acknowledge"),
    "resolve": ("resolved", ""),
}
# Events API v2's payload.severity: critical, error, warning, info.
SEVERITY: dict[str, Severity] = {
    "critical": "critical",
    "error": "critical",
    "warning": "warning",
    "info": "info",
}


def detect(payload: Any) -> bool:
    if not isinstance(payload, dict):
        return False
    if isinstance(payload.get("event_action"), str):  # v2
        return "routing_key" in payload or isinstance(payload.get("payload"), dict)
    return (  # v1
        "service_key" in payload
        and isinstance(payload.get("event_type"), str)
        and text(payload["event_type"]).lower() in ACTIONS
    )


def parse(payload: Any) -> list[NormalizedAlert]:
    body = require_dict(payload, "pagerduty event")
    if isinstance(body.get("event_action"), str):
        return [parse_v2(body)]
    return [parse_v1(body)]


def status_of(value: Any, where: str) -> tuple[Status, str]:
    action = text(value).lower()
    if action not in ACTIONS:
        raise PayloadError(
            f"pagerduty {where} must be trigger, acknowledge or resolve, got {action[:40]!r}"
        )
    return ACTIONS[action]


def fingerprint_of(key: str, name: str, source: str, notes: Notes, field: str):
    if key:
        return id_fingerprint(key), [field]
    notes.add(f"no {field}: fingerprint from the summary and source")
    return hash_fingerprint(name, source), ["summary", "source"]


def parse_v2(body: dict[str, Any]) -> NormalizedAlert:
    notes = Notes()
    notes.add("a PagerDuty Events API v2 body (event_action)")
    status, action = status_of(body.get("event_action"), "event_action")
    details = optional_dict(body.get("payload"), "payload")
    name = first_text(value_text(details.get("summary")), value_text(body.get("description")))
    key = value_text(body.get("dedup_key"))
    if not name:
        if status == "firing" and not action:
            raise PayloadError("pagerduty event has no payload.summary")
        name = f"PagerDuty event {key}" if key else ""
    if not name:
        raise PayloadError("pagerduty event has neither payload.summary nor dedup_key")
    source = value_text(details.get("source"))
    fingerprint, fields = fingerprint_of(key, name, source, notes, "dedup_key")
    severity = severity_noted(details.get("severity"), notes, SEVERITY, "payload.severity")
    if not text(details.get("severity")):
        notes.add("no payload.severity: warning")
    happened_at = parse_time(details.get("timestamp"), "payload.timestamp")
    labels = {
        key: value_text(details.get(key))
        for key in ("component", "group", "class")
        if value_text(details.get(key))
    }
    links = body.get("links")
    first_link = links[0] if isinstance(links, list) and links else {}
    return notes.attach(
        NormalizedAlert(
            name=name,
            status=status,
            severity=severity,
            started_at=happened_at if status == "firing" else None,
            ended_at=happened_at if status == "resolved" else None,
            fingerprint=fingerprint,
            fingerprint_fields=fields,
            host=source,
            description=custom_details_text(details.get("custom_details")),
            labels=labels,
            annotations={"client": value_text(body.get("client"))}
            if value_text(body.get("client"))
            else {},
            source=SOURCE,
            action=action,
            url=first_text(
                value_text(body.get("client_url")),
                first_link.get("href") if isinstance(first_link, dict) else "",
            ),
        )
    )


def parse_v1(body: dict[str, Any]) -> NormalizedAlert:
    notes = Notes()
    notes.add("a PagerDuty Events API v1 body (service_key)")
    status, action = status_of(body.get("event_type"), "event_type")
    key = value_text(body.get("incident_key"))
    name = value_text(body.get("description")) or (f"PagerDuty event {key}" if key else "")
    if not name:
        raise PayloadError("pagerduty event has neither description nor incident_key")
    details = body.get("details")
    host = value_text(details.get("host")) if isinstance(details, dict) else ""
    fingerprint, fields = fingerprint_of(key, name, host, notes, "incident_key")
    notes.add("no severity in Events API v1: warning")
    return notes.attach(
        NormalizedAlert(
            name=name,
            status=status,
            severity="warning",
            started_at=None,
            ended_at=None,
            fingerprint=fingerprint,
            fingerprint_fields=fields,
            host=host,
            description=custom_details_text(details),
            labels={},
            annotations={"client": value_text(body.get("client"))}
            if value_text(body.get("client"))
            else {},
            source=SOURCE,
            action=action,
            url=value_text(body.get("client_url")),
        )
    )


def custom_details_text(details: Any) -> str:
    if isinstance(details, dict):
        return "; ".join(f"{key}: {text(value)}" for key, value in details.items() if text(value))
    return value_text(details)
