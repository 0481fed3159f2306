"""PagerDuty webhooks: V3 (``event``), V2 (``messages[].event``) and V1 (``messages[].type``).

Also read: Events API bodies posted here by tools that speak PagerDuty's ingest format
(``pagerduty_events``), V3 events without ``occurred_at`` and messages whose incident sits
under ``data``. What was filled in is noted.
"""

from __future__ import annotations

import re
from typing import Any

from apps.common.text import one_line

from . import pagerduty_events
from .base import (
    DEFAULT_SEVERITY,
    NormalizedAlert,
    PayloadError,
    Severity,
    Status,
    TestNotification,
    first_text,
    id_fingerprint,
    now_utc,
    optional_dict,
    parse_time,
    require_dict,
    require_list,
    require_text,
    text,
)
from .fields import Notes, severity_noted

SOURCE = "pagerduty"

_EVENT_TYPE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
# Low urgency still needs a person, just not at night.
URGENCY: dict[str, Severity] = {"high": "critical", "low": "warning"}
ID_FIELDS = {"v2": "messages[].incident.id", "v1": "messages[].data.incident.id"}
INCIDENT_STATUS: dict[str, Status] = {
    "triggered": "firing",
    "acknowledged": "firing",
    "resolved": "resolved",
}


def detect(payload: Any) -> bool:
    return (
        is_v3(payload)
        or any(is_v2_message(m) or is_v1_message(m) for m in messages(payload))
        or pagerduty_events.detect(payload)
    )


def is_v3(payload: Any) -> bool:
    if not isinstance(payload, dict) or not isinstance(payload.get("event"), dict):
        return False
    event = payload["event"]
    event_type = event.get("event_type")
    return (
        isinstance(event_type, str)
        and bool(_EVENT_TYPE.match(event_type))
        and isinstance(event.get("data"), dict)
    )


def messages(payload: Any) -> list[Any]:
    if isinstance(payload, dict) and isinstance(payload.get("messages"), list):
        return payload["messages"]
    return []


def is_v2_message(message: Any) -> bool:
    return (
        isinstance(message, dict)
        and isinstance(message.get("event"), str)
        and message["event"].startswith("incident.")
        and isinstance(message.get("incident"), dict)
    )


def is_v1_message(message: Any) -> bool:
    """``type`` + ``data.incident``; also V2's ``event`` with the incident under ``data``."""
    if not isinstance(message, dict) or not isinstance(message.get("data"), dict):
        return False
    kind = message.get("type") if isinstance(message.get("type"), str) else message.get("event")
    return (
        isinstance(kind, str)
        and kind.startswith("incident.")
        and isinstance(message["data"].get("incident"), dict)
    )


def parse(payload: Any) -> list[NormalizedAlert]:
    if pagerduty_events.detect(payload):
        return pagerduty_events.parse(payload)
    if is_v3(payload):
        return [parse_v3(payload["event"])]
    body = require_dict(payload, "pagerduty payload")
    event = body.get("event")
    if isinstance(event, dict) and "messages" not in body:  # a V3 body, malformed: say where
        kind = event.get("event_type")
        if not isinstance(kind, str) or not _EVENT_TYPE.match(kind):
            raise PayloadError(
                f"pagerduty event.event_type must be like 'incident.triggered', got "
                f"{one_line(repr(kind), 60)}"
            )
        return [parse_v3(event)]
    items = require_list(body.get("messages"), "pagerduty payload 'messages'")
    if not items:
        raise PayloadError("pagerduty payload has an empty 'messages' list")
    return [parse_message(message, index) for index, message in enumerate(items)]


def parse_message(message: Any, index: int) -> NormalizedAlert:
    where = f"messages[{index}]"
    if is_v2_message(message):
        return parse_incident(message["event"], message["incident"], where + ".incident", "v2")
    if is_v1_message(message):
        incident = message["data"]["incident"]
        kind = message.get("type") if isinstance(message.get("type"), str) else message["event"]
        return parse_incident(kind, incident, where + ".data.incident", "v1")
    raise PayloadError(f"pagerduty {where} is not an incident message")


# V3 names events in the past tense, V1/V2 with a verb; actions use the verb.
V3_VERBS = {
    "triggered": "trigger",
    "acknowledged": "acknowledge",
    "unacknowledged": "unacknowledge",
    "resolved": "resolve",
    "reopened": "reopen",
    "reassigned": "assign",
    "escalated": "escalate",
    "delegated": "delegate",
    "annotated": "annotate",
}


def kind_of(event_type: str) -> str:
    """'incident.acknowledged' / 'incident.acknowledge' -> 'acknowledge'."""
    kind = event_type.removeprefix("incident.")
    return V3_VERBS.get(kind, kind)


def status_and_action(kind: str, incident_status: str, where: str) -> tuple[Status, str]:
    if kind in ("trigger", "reopen"):
        return "firing", ""
    if kind == "resolve":
        return "resolved", ""
    if kind == "acknowledge":
        return "firing", "acknowledge"
    # assign, escalate, delegate, annotate, unacknowledge...: the state is unchanged.
    status = INCIDENT_STATUS.get(incident_status)
    if status is None and incident_status:
        raise PayloadError(f"pagerduty {where}.status: unknown status {incident_status!r}")
    return status or "firing", kind


def severity_of(incident: dict[str, Any], notes: Notes) -> Severity:
    priority = incident.get("priority")
    if isinstance(priority, dict):
        priority = first_text(priority.get("summary"), priority.get("name"))
    if text(priority):
        return severity_noted(priority, notes, field="priority")
    return severity_noted(incident.get("urgency"), notes, URGENCY, "urgency")


def parse_v3(event: dict[str, Any]) -> NormalizedAlert:
    event_type = event["event_type"]
    if event_type == "pagey.ping":  # sent when a subscription is tested
        raise TestNotification("pagerduty ping (pagey.ping) received; nothing stored")
    data = require_dict(event["data"], "pagerduty event.data")
    if not event_type.startswith("incident."):
        raise PayloadError(f"pagerduty event {event_type!r} is not about an incident")
    notes = Notes()
    occurred_at = parse_time(event.get("occurred_at"), "event.occurred_at")
    if occurred_at is None:
        notes.add("no event.occurred_at: the receive time")
        occurred_at = now_utc()
    kind = kind_of(event_type)
    data_type = text(data.get("type"))
    if data_type != "incident" and (data_type or "incident" in data):
        # e.g. incident.annotated: data is a note that refers to its incident.
        return parse_v3_reference(kind, data)
    status, action = status_and_action(kind, text(data.get("status")), "event.data")
    started_at = parse_time(data.get("created_at"), "event.data.created_at")
    if started_at is None and kind == "trigger":
        started_at = occurred_at
    service = optional_dict(data.get("service"), "event.data.service")
    if not data_type:
        notes.add("no event.data.type: read as an incident")
    return notes.attach(
        NormalizedAlert(
            name=require_text(data.get("title"), "pagerduty event.data.title"),
            status=status,
            severity=severity_of(data, notes),
            started_at=started_at,
            ended_at=occurred_at if status == "resolved" else None,
            fingerprint=id_fingerprint(require_text(data.get("id"), "pagerduty event.data.id")),
            fingerprint_fields=["event.data.id"],
            host="",
            description=text(data.get("description")),
            labels=clean_labels(
                {"service": service.get("summary"), "incident_number": data.get("number")}
            ),
            annotations={"event_type": event_type, "event_id": text(event.get("id"))},
            source=SOURCE,
            action=action,
            url=text(data.get("html_url")),
        )
    )


def parse_v3_reference(kind: str, data: dict[str, Any]) -> NormalizedAlert:
    incident = optional_dict(data.get("incident"), "event.data.incident")
    incident_id = require_text(incident.get("id"), "pagerduty event.data.incident.id")
    return NormalizedAlert(
        name=first_text(incident.get("summary"), f"PagerDuty incident {incident_id}"),
        status="firing",
        severity=DEFAULT_SEVERITY,  # a note about an incident: no severity of its own
        started_at=None,
        ended_at=None,
        fingerprint=id_fingerprint(incident_id),
        fingerprint_fields=["event.data.incident.id"],
        description=text(data.get("content")),
        source=SOURCE,
        action=kind,
        url=text(incident.get("html_url")),
    )


def parse_incident(
    event_type: str, incident: dict[str, Any], where: str, version: str
) -> NormalizedAlert:
    kind = kind_of(event_type)
    status, action = status_and_action(kind, text(incident.get("status")), where)
    service = optional_dict(incident.get("service"), f"{where}.service")
    summary = optional_dict(incident.get("trigger_summary_data"), f"{where}.trigger_summary_data")
    name = first_text(
        incident.get("title"),
        summary.get("subject"),
        summary.get("description"),
        incident.get("incident_key"),
        incident.get("summary"),
    )
    if not name:
        raise PayloadError(f"pagerduty {where} has no title, subject or incident_key")
    started_at = parse_time(
        first_text(incident.get("created_at"), incident.get("created_on")), f"{where}.created_at"
    )
    changed_at = parse_time(
        first_text(incident.get("last_status_change_at"), incident.get("last_status_change_on")),
        f"{where}.last_status_change_at",
    )
    notes = Notes()
    incident_id = text(incident.get("id"))
    id_field = ID_FIELDS[version]
    if not incident_id and text(incident.get("incident_key")):
        notes.add("no incident id: fingerprint from incident_key")
        incident_id, id_field = text(incident["incident_key"]), f"{where}.incident_key"
    alerts = incident.get("alerts")
    alert_keys = [
        text(item.get("alert_key"))
        for item in (alerts if isinstance(alerts, list) else [])
        if isinstance(item, dict) and text(item.get("alert_key"))
    ]
    return notes.attach(
        NormalizedAlert(
            name=name,
            status=status,
            severity=severity_of(incident, notes),
            started_at=started_at,
            ended_at=changed_at if status == "resolved" else None,
            fingerprint=id_fingerprint(require_text(incident_id, f"pagerduty {where}.id")),
            fingerprint_fields=[id_field],
            host="",
            description=text(incident.get("description")),
            labels=clean_labels(
                {
                    "service": first_text(service.get("name"), service.get("summary")),
                    "incident_number": incident.get("incident_number"),
                    "incident_key": incident.get("incident_key"),
                }
            ),
            annotations={"event_type": event_type, "format": version, "alert_keys": alert_keys},
            source=SOURCE,
            action=action,
            url=text(incident.get("html_url")),
        )
    )


def clean_labels(values: dict[str, Any]) -> dict[str, str]:
    return {key: text(value) for key, value in values.items() if text(value)}
