"""Datadog monitor webhook, with the payload template the shared fixtures use.

Datadog sends whatever the user's template says; the keys read here are those of the
common template (``$EVENT_TITLE`` -> ``title``, ``$ALERT_TRANSITION`` -> ``alert_transition``...).
"""

from __future__ import annotations

import re
from typing import Any

from apps.common.text import one_line

from .base import (
    NormalizedAlert,
    PayloadError,
    Severity,
    Status,
    first_text,
    hash_fingerprint,
    labels_from_tags,
    lower_severity,
    normalize_severity,
    parse_time,
    require_dict,
    text,
)

SOURCE = "datadog"

TRANSITIONS: dict[str, Status] = {
    "triggered": "firing",
    "re-triggered": "firing",
    "warn": "firing",
    "re-warn": "firing",
    "no data": "firing",
    "re-no data": "firing",
    "renotify": "firing",
    "recovered": "resolved",
    "warn recovered": "resolved",
}
ALERT_TYPES: dict[str, Status] = {"error": "firing", "warning": "firing", "success": "resolved"}
ALERT_TYPE_SEVERITY: dict[str, Severity] = {
    "error": "critical",
    "warning": "warning",
    "success": "info",
    "info": "info",
}
# "[P2] [Triggered] Name" and "[Triggered on {service:api}] Name" -> "Name"
_TITLE_PREFIX = re.compile(r"^(\s*\[[^\]]*\])+\s*")


def detect(payload: Any) -> bool:
    if not isinstance(payload, dict):
        return False
    if "alert_transition" in payload:
        return "alert_type" in payload or "monitor_id" in payload or "title" in payload
    return "monitor_id" in payload and ("alert_type" in payload or "alert_query" in payload)


def parse(payload: Any) -> list[NormalizedAlert]:
    body = require_dict(payload, "datadog payload")
    status = status_of(body)
    title = first_text(body.get("title"), body.get("event_title"))
    name = _TITLE_PREFIX.sub("", title).strip() or title
    if not name:
        raise PayloadError("datadog payload has no 'title'")
    scopes = text(body.get("scopes"))
    labels = {**labels_from_tags(body.get("tags")), **labels_from_tags(scopes)}
    host = first_text(labels.get("host"), body.get("hostname"), body.get("host"))
    monitor_id = text(body.get("monitor_id"))
    if monitor_id:
        # Stable across transitions; 'id' is the event id and changes every time.
        fingerprint, fields = hash_fingerprint(monitor_id, scopes), ["monitor_id", "scopes"]
    else:
        fingerprint, fields = hash_fingerprint(name, scopes or host), ["title", "scopes"]
    happened_at = parse_time(first_text(body.get("date"), body.get("last_updated")), "date")
    return [
        NormalizedAlert(
            name=name,
            status=status,
            severity=severity_of(body),
            started_at=happened_at if status == "firing" else None,
            ended_at=happened_at if status == "resolved" else None,
            fingerprint=fingerprint,
            fingerprint_fields=fields,
            host=host,
            description=text(body.get("body")).strip("%").strip(),
            labels=labels,
            annotations={
                key: body[key]
                for key in ("alert_transition", "alert_type", "alert_query", "event_type", "id")
                if text(body.get(key))
            },
            source=SOURCE,
            url=text(body.get("url")),
        )
    ]


def status_of(body: dict[str, Any]) -> Status:
    transition = text(body.get("alert_transition")).lower()
    if transition in TRANSITIONS:
        return TRANSITIONS[transition]
    alert_type = text(body.get("alert_type")).lower()
    if alert_type in ALERT_TYPES:
        return ALERT_TYPES[alert_type]
    raise PayloadError(
        "datadog payload: unknown alert_transition "
        f"{one_line(repr(body.get('alert_transition')), 40)} and alert_type "
        f"{one_line(repr(body.get('alert_type')), 40)}"
    )


def severity_of(body: dict[str, Any]) -> Severity:
    alert_type = text(body.get("alert_type")).lower()
    by_type = ALERT_TYPE_SEVERITY.get(alert_type, "warning")
    priority = text(body.get("severity") or body.get("priority"))
    severity = normalize_severity(priority) if priority else by_type
    # A Warn transition crossed the warning threshold, whatever the monitor's priority.
    if text(body.get("alert_transition")).lower() in ("warn", "re-warn") or alert_type == "warning":
        return lower_severity(severity, "warning")
    return severity
