"""Prometheus Alertmanager webhook (``"version": "4"``): one body per alert group."""

from __future__ import annotations

from typing import Any

from .base import (
    NormalizedAlert,
    PayloadError,
    first_text,
    hash_fingerprint,
    id_fingerprint,
    normalize_severity,
    normalize_status,
    optional_dict,
    parse_time,
    require_dict,
    require_list,
    require_text,
    string_labels,
    text,
)

SOURCE = "alertmanager"


def detect(payload: Any) -> bool:
    return (
        isinstance(payload, dict)
        and str(payload.get("version")) == "4"
        and isinstance(payload.get("alerts"), list)
        and "groupKey" in payload
        and "orgId" not in payload  # Grafana unified alerting
    )


def parse(payload: Any) -> list[NormalizedAlert]:
    return parse_group(payload, SOURCE)


def parse_group(payload: Any, source: str) -> list[NormalizedAlert]:
    """Parse an Alertmanager-shaped group (also Grafana unified alerting)."""
    body = require_dict(payload, f"{source} payload")
    alerts = require_list(body.get("alerts"), f"{source} payload 'alerts'")
    if not alerts:
        raise PayloadError(f"{source} payload has an empty 'alerts' list")
    common_labels = string_labels(body.get("commonLabels"), "commonLabels")
    common_annotations = optional_dict(body.get("commonAnnotations"), "commonAnnotations")
    return [
        parse_alert(item, index, body, common_labels, common_annotations, source)
        for index, item in enumerate(alerts)
    ]


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
    own_labels = string_labels(alert.get("labels"), f"{where}.labels")
    labels = {**common_labels, **own_labels}
    annotations = {
        **common_annotations,
        **optional_dict(alert.get("annotations"), f"{where}.annotations"),
    }
    name = require_text(labels.get("alertname"), f"{where}.labels.alertname")
    # Older Alertmanager releases sent no per-alert status; the group's status applies.
    status = normalize_status(alert.get("status") or body.get("status"), f"{where}.status")
    if text(alert.get("fingerprint")):
        fingerprint, fields = id_fingerprint(alert["fingerprint"]), ["fingerprint"]
    else:
        fingerprint, fields = hash_fingerprint(own_labels), ["labels"]
    # A firing alert carries endsAt = now + resolve_timeout; it has not ended.
    ended_at = parse_time(alert.get("endsAt"), f"{where}.endsAt") if status == "resolved" else None
    return NormalizedAlert(
        name=name,
        status=status,
        severity=normalize_severity(labels.get("severity")),
        started_at=parse_time(alert.get("startsAt"), f"{where}.startsAt"),
        ended_at=ended_at,
        fingerprint=fingerprint,
        fingerprint_fields=fields,
        host=first_text(labels.get("instance"), labels.get("host")),
        description=first_text(
            annotations.get("description"), annotations.get("summary"), annotations.get("message")
        ),
        labels=labels,
        annotations=annotations,
        source=source,
        url=text(alert.get("generatorURL")),
    )
