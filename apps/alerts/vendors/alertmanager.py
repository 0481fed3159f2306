"""Prometheus Alertmanager webhook (``"version": "4"``): one body per alert group.

Also read: bodies of the same format from other senders (curl tests, relays) that leave out
``groupKey``, ``version`` or the statuses, and a bare list of Prometheus alerts (what
Prometheus posts to Alertmanager's ``/api/v2/alerts``). What was filled in is noted.
"""

from __future__ import annotations

from typing import Any

from .base import (
    NormalizedAlert,
    PayloadError,
    Status,
    first_text,
    hash_fingerprint,
    id_fingerprint,
    normalize_status,
    now_utc,
    optional_dict,
    parse_time,
    require_dict,
    require_list,
    string_labels,
    text,
)
from .fields import Notes, attach_notes, severity_noted

SOURCE = "alertmanager"
# Keys only Grafana's unified alerting adds to the Alertmanager shape.
GRAFANA_BODY_KEYS = ("orgId",)  # truncatedAlerts: Alertmanager sends it too
GRAFANA_ALERT_KEYS = ("dashboardURL", "panelURL", "silenceURL", "valueString", "values")
GROUP_KEYS = ("receiver", "groupLabels", "commonLabels", "commonAnnotations", "externalURL")


def detect(payload: Any) -> bool:
    if isinstance(payload, list):
        return is_prometheus_list(payload)
    if not isinstance(payload, dict) or not isinstance(payload.get("alerts"), list):
        return False
    if looks_grafana(payload):
        return False
    if str(payload.get("version")) == "4":
        return True
    # Another sender of the webhook format: group keys and alerts with an alertname label; or
    # just `alerts`, each as Prometheus sends them (hand-written tests, relays).
    if any(key in payload for key in GROUP_KEYS) and all_named(payload):
        return True
    return is_prometheus_list(payload["alerts"])


def looks_grafana(payload: dict[str, Any]) -> bool:
    if any(key in payload for key in GRAFANA_BODY_KEYS) or str(payload.get("version")) == "1":
        return True
    return any(
        isinstance(item, dict) and any(key in item for key in GRAFANA_ALERT_KEYS)
        for item in payload["alerts"]
    )


def has_alertname(item: Any, common: Any = None) -> bool:
    if not isinstance(item, dict) or not isinstance(item.get("labels"), dict):
        return False
    common_name = common.get("alertname") if isinstance(common, dict) else None
    return bool(text(item["labels"].get("alertname")) or text(common_name))


def all_named(payload: dict[str, Any]) -> bool:
    alerts = payload["alerts"]
    common = payload.get("commonLabels")
    return bool(alerts) and all(has_alertname(item, common) for item in alerts)


def is_prometheus_list(payload: list[Any]) -> bool:
    return (
        bool(payload)
        and all(has_alertname(item) for item in payload)
        and all(
            any(key in item for key in ("startsAt", "endsAt", "generatorURL", "annotations"))
            for item in payload
        )
    )


def parse(payload: Any) -> list[NormalizedAlert]:
    if isinstance(payload, list):
        alerts = parse_group({"alerts": payload}, SOURCE)
        for alert in alerts:
            attach_notes(alert, ["a bare list of Prometheus alerts: read as one group"])
        return alerts
    return parse_group(payload, SOURCE)


def derived_group_key(body: dict[str, Any]) -> str:
    """Alertmanager's form, '{}:{alertname="X"}', from the group labels."""
    labels = string_labels(body.get("groupLabels"), "groupLabels")
    pairs = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    return "{}:{" + pairs + "}"


def group_notes(body: dict[str, Any], source: str) -> list[str]:
    # A bare list (wrapped by parse) has no group to name.
    if source != SOURCE or text(body.get("groupKey")) or len(body) == 1:
        return []
    return [f"groupKey missing: derived {derived_group_key(body)} from groupLabels"]


def parse_group(payload: Any, source: str) -> list[NormalizedAlert]:
    """Parse an Alertmanager-shaped group (also Grafana unified alerting)."""
    body = require_dict(payload, f"{source} payload")
    alerts = require_list(body.get("alerts"), f"{source} payload 'alerts'")
    if not alerts:
        raise PayloadError(f"{source} payload has an empty 'alerts' list")
    common_labels = string_labels(body.get("commonLabels"), "commonLabels")
    common_annotations = optional_dict(body.get("commonAnnotations"), "commonAnnotations")
    notes = group_notes(body, source)
    parsed = []
    for index, item in enumerate(alerts):
        alert = parse_alert(item, index, body, common_labels, common_annotations, source)
        if notes:
            alert.annotations.setdefault("groupKey", derived_group_key(body))
            attach_notes(alert, notes)
        parsed.append(alert)
    return parsed


def status_of(alert: dict[str, Any], body: dict[str, Any], where: str, notes: Notes) -> Status:
    # Older Alertmanager releases sent no per-alert status; the group's status applies.
    if text(alert.get("status")):
        return normalize_status(alert.get("status"), f"{where}.status")
    if text(body.get("status")):
        notes.add("status read from the group's 'status'")
        return normalize_status(body.get("status"), f"{where}.status")
    # Prometheus' own alerts: an end time in the past means resolved.
    ends_at = parse_time(alert.get("endsAt"), f"{where}.endsAt")
    if ends_at is not None and ends_at <= now_utc():
        notes.add("no status: resolved because endsAt is past")
        return "resolved"
    notes.add("no status: firing (no past endsAt)")
    return "firing"


def name_of(labels: dict[str, str], annotations: dict[str, Any], where: str, notes: Notes) -> str:
    name = text(labels.get("alertname"))
    if name:
        return name
    for key, value in (
        ("labels.name", labels.get("name")),
        ("annotations.title", annotations.get("title")),
        ("annotations.summary", annotations.get("summary")),
    ):
        if text(value):
            notes.add(f"no labels.alertname: name read from {key}")
            return text(value)
    raise PayloadError(f"{where}.labels.alertname is missing or empty")


def parse_alert(
    item: Any,
    index: int,
    body: dict[str, Any],
    common_labels: dict[str, str],
    common_annotations: dict[str, Any],
    source: str,
) -> NormalizedAlert:
    where = f"alerts[{index}]"
    alert = require_dict(item, where)
    notes = Notes()
    own_labels = string_labels(alert.get("labels"), f"{where}.labels")
    labels = {**common_labels, **own_labels}
    annotations = {
        **common_annotations,
        **optional_dict(alert.get("annotations"), f"{where}.annotations"),
    }
    name = name_of(labels, annotations, where, notes)
    status = status_of(alert, body, where, notes)
    if text(alert.get("fingerprint")):
        fingerprint, fields = id_fingerprint(alert["fingerprint"]), ["fingerprint"]
    else:
        fingerprint, fields = hash_fingerprint(own_labels or labels), ["labels"]
    # A firing alert carries endsAt = now + resolve_timeout; it has not ended.
    ended_at = parse_time(alert.get("endsAt"), f"{where}.endsAt") if status == "resolved" else None
    severity = severity_noted(
        labels.get("severity") or labels.get("priority"), notes, field="severity label"
    )
    if not text(labels.get("severity")):
        notes.add(f"no severity label: {severity}")
    return notes.attach(
        NormalizedAlert(
            name=name,
            status=status,
            severity=severity,
            started_at=parse_time(alert.get("startsAt"), f"{where}.startsAt"),
            ended_at=ended_at,
            fingerprint=fingerprint,
            fingerprint_fields=fields,
            host=first_text(labels.get("instance"), labels.get("host")),
            description=first_text(
                annotations.get("description"),
                annotations.get("summary"),
                annotations.get("message"),
            ),
            labels=labels,
            annotations=annotations,
            source=source,
            url=text(alert.get("generatorURL")),
        )
    )
