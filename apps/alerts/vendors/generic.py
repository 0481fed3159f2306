"""The documented generic JSON format (docs/alert-formats.md), plus two vendor-neutral shapes
it also reads: Google Cloud Monitoring incidents and flat Riemann-style events.

Generic claims only what no specific vendor claims, so it is always the last resort.
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
    labels_from_tags,
    normalize_status,
    optional_dict,
    parse_time,
    require_dict,
    require_list,
    require_text,
    string_labels,
    text,
)
from .fields import Notes, pick, picked, severity_noted, unexpanded_fields

SOURCE = "generic"

# A dict with a name or title is an alert (firing, warning unless it says otherwise).
NAME = ("name", "title", "alertname", "alert_name")
STATUS = ("status", "state")
SEVERITY = ("severity", "level", "priority", "urgency")
DESCRIPTION = ("description", "message", "text", "body", "details")
HOST = ("host", "hostname", "instance", "server", "node")
FINGERPRINT = ("fingerprint", "id", "dedup_key", "alert_id", "external_id")
STARTED = ("started_at", "startsAt", "start_time", "timestamp", "time", "created_at")
ENDED = ("ended_at", "endsAt", "end_time", "resolved_at")
URL = ("url", "link", "generatorURL")
ACKNOWLEDGED_WORDS = frozenset({"acknowledged", "acknowledge", "ack", "acked"})
GCP_STATES: dict[str, Status] = {"open": "firing", "closed": "resolved"}
RIEMANN_SEVERITY: dict[str, Severity] = {"critical": "critical", "warning": "warning"}


def detect(payload: Any) -> bool:
    if not (is_native(payload) or is_gcp(payload) or is_riemann(payload)):
        return False
    from . import specific_vendor  # the registry imports this module: import late

    return specific_vendor(payload) is None


def is_alert_object(item: Any) -> bool:
    """A name or title makes an alert; one of the wrong JSON type is claimed so that parsing
    refuses it naming the field."""
    return isinstance(item, dict) and any(
        isinstance(item.get(key), dict | list) and item[key] or picked(item, (key,)) for key in NAME
    )


def is_native(payload: Any) -> bool:
    if not isinstance(payload, dict):
        return False
    if "alerts" in payload:
        alerts = payload["alerts"]
        return isinstance(alerts, list) and any(is_alert_object(item) for item in alerts)
    return is_alert_object(payload)


def is_gcp(payload: Any) -> bool:
    return (
        isinstance(payload, dict)
        and isinstance(payload.get("incident"), dict)
        and "incident_id" in payload["incident"]
        and "state" in payload["incident"]
    )


def is_riemann(payload: Any) -> bool:
    return isinstance(payload, dict) and all(
        isinstance(payload.get(key), str) for key in ("host", "service", "state")
    )


def parse(payload: Any) -> list[NormalizedAlert]:
    if is_native(payload):
        if "alerts" not in payload:
            return [parse_object(payload, "alert")]
        items = require_list(payload["alerts"], "generic payload 'alerts'")
        return [parse_object(item, f"alerts[{index}]") for index, item in enumerate(items)]
    if is_gcp(payload):
        return [parse_gcp(payload["incident"])]
    if is_riemann(payload):
        return [parse_riemann(payload)]
    raise PayloadError(
        "generic payload needs a 'name' or 'title' (or a non-empty list of such objects under "
        f"'alerts'){unexpanded_fields(payload, NAME)}"
    )


def status_of(alert: dict[str, Any], where: str, notes: Notes) -> tuple[Status, bool]:
    used, word = pick(alert, STATUS, f"generic {where}.")
    notes.alias(used, "status")
    if not word:
        notes.add("no status: firing")
        return "firing", False
    if word.lower() in ACKNOWLEDGED_WORDS:
        return "firing", True
    return normalize_status(word, f"{where}.{used}"), False


def labels_of(alert: dict[str, Any], where: str, notes: Notes) -> dict[str, str]:
    if "labels" in alert:
        return string_labels(alert.get("labels"), f"{where}.labels")
    tags = alert.get("tags")
    if tags is None:
        return {}
    notes.alias("tags", "labels")
    if isinstance(tags, dict):
        return string_labels(tags, f"{where}.tags")
    if isinstance(tags, list | str):
        return labels_from_tags(tags)
    raise PayloadError(f"{where}.tags must be a JSON object, array or string")


def parse_object(item: Any, where: str) -> NormalizedAlert:
    alert = require_dict(item, where)
    notes = Notes()
    used, name = pick(alert, NAME, f"generic {where}.", notes)
    if not name:
        raise PayloadError(
            f"generic {where} needs a 'name' or 'title'" + unexpanded_fields(alert, NAME)
        )
    notes.alias(used, "name")
    status, acknowledged = status_of(alert, where, notes)
    used, host = pick(alert, HOST, f"generic {where}.", notes)
    notes.alias(used, "host")
    labels = labels_of(alert, where, notes)
    severity_key, raw_severity = pick(alert, SEVERITY, f"generic {where}.")
    notes.alias(severity_key, "severity")
    if not raw_severity:
        notes.add("no severity: warning")
    if isinstance(alert.get("fingerprint"), dict | list | bool):
        raise PayloadError(f"generic {where}.fingerprint must be a string or a number")
    used, own_id = pick(alert, FINGERPRINT)
    if own_id:
        notes.alias(used, "fingerprint")
        fingerprint, fields = id_fingerprint(own_id), [used]
    else:
        fingerprint = hash_fingerprint(name, host, labels)
        fields = ["name", "host", "labels"] if labels else ["name", "host"]
    started_key = next((key for key in STARTED if alert.get(key) not in (None, "")), STARTED[0])
    ended_key = next((key for key in ENDED if alert.get(key) not in (None, "")), ENDED[0])
    description = picked(alert, DESCRIPTION)
    if used_description := next((k for k in DESCRIPTION if picked(alert, (k,))), ""):
        notes.alias(used_description, "description")
    return notes.attach(
        NormalizedAlert(
            name=name,
            status=status,
            severity=severity_noted(raw_severity, notes, field=severity_key),
            started_at=parse_time(alert.get(started_key), f"{where}.{started_key}"),
            ended_at=(
                parse_time(alert.get(ended_key), f"{where}.{ended_key}")
                if status == "resolved"
                else None
            ),
            fingerprint=fingerprint,
            fingerprint_fields=fields,
            host=host,
            description=description,
            labels=labels,
            annotations=dict(optional_dict(alert.get("annotations"), f"{where}.annotations")),
            source=SOURCE,
            action="acknowledge" if acknowledged else "",
            url=picked(alert, URL),
        )
    )


def parse_gcp(incident: dict[str, Any]) -> NormalizedAlert:
    state = text(incident.get("state")).lower()
    if state not in GCP_STATES:
        raise PayloadError(f"cloud monitoring incident.state must be open or closed, got {state!r}")
    status = GCP_STATES[state]
    incident_id = require_text(incident.get("incident_id"), "incident.incident_id")
    labels = {
        key: text(incident[key])
        for key in ("policy_name", "condition_name", "resource_id", "resource_type_display_name")
        if text(incident.get(key))
    }
    user_labels = incident.get("policy_user_labels")
    if isinstance(user_labels, dict):
        labels.update(string_labels(user_labels, "incident.policy_user_labels"))
    documentation = optional_dict(incident.get("documentation"), "incident.documentation")
    notes = Notes()
    alert = NormalizedAlert(
        name=first_text(incident.get("policy_name"), incident.get("condition_name"), incident_id),
        status=status,
        severity=severity_noted(incident.get("severity"), notes, field="incident.severity"),
        started_at=parse_time(incident.get("started_at"), "incident.started_at"),
        ended_at=(
            parse_time(incident.get("ended_at"), "incident.ended_at")
            if status == "resolved"
            else None
        ),
        fingerprint=id_fingerprint(incident_id),
        fingerprint_fields=["incident.incident_id"],
        host=first_text(incident.get("resource_name"), incident.get("resource_id")),
        description=text(incident.get("summary")),
        labels=labels,
        annotations={"documentation": text(documentation.get("content"))}
        if text(documentation.get("content"))
        else {},
        source=SOURCE,
        url=text(incident.get("url")),
    )
    return notes.attach(alert)


def parse_riemann(event: dict[str, Any]) -> NormalizedAlert:
    host = require_text(event["host"], "riemann host")
    service = require_text(event["service"], "riemann service")
    state = text(event["state"]).lower()
    status: Status = "firing" if state in RIEMANN_SEVERITY else normalize_status(state, "state")
    happened_at = parse_time(event.get("time"), "time")
    notes = Notes()
    alert = NormalizedAlert(
        name=service,
        status=status,
        severity=severity_noted(state, notes, RIEMANN_SEVERITY, "state"),
        started_at=happened_at if status == "firing" else None,
        ended_at=happened_at if status == "resolved" else None,
        fingerprint=hash_fingerprint(host, service),
        fingerprint_fields=["host", "service"],
        host=host,
        description=text(event.get("description")),
        labels={**labels_from_tags(event.get("tags")), "service": service},
        annotations={"metric": event["metric"]} if "metric" in event else {},
        source=SOURCE,
    )
    return notes.attach(alert)
