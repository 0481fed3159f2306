"""New Relic webhooks: classic alert notifications and workflow (issue) notifications."""

from __future__ import annotations

from typing import Any

from apps.common.text import one_line

from .base import (
    NormalizedAlert,
    PayloadError,
    Severity,
    Status,
    first_text,
    id_fingerprint,
    normalize_severity,
    parse_time,
    require_dict,
    require_text,
    string_labels,
    text,
)

SOURCE = "newrelic"

CLASSIC_STATES: dict[str, tuple[Status, str]] = {
    "open": ("firing", ""),
    "acknowledged": ("firing", "acknowledge"),
    "closed": ("resolved", ""),
}
ISSUE_STATES: dict[str, tuple[Status, str]] = {
    "created": ("firing", ""),
    "activated": ("firing", ""),
    "acknowledged": ("firing", "acknowledge"),
    "closed": ("resolved", ""),
}
# Issues from a critical threshold get priority CRITICAL, from a warning threshold HIGH.
ISSUE_PRIORITY: dict[str, Severity] = {
    "critical": "critical",
    "high": "warning",
    "medium": "warning",
    "low": "info",
}


def detect(payload: Any) -> bool:
    return is_classic(payload) or is_issue(payload)


def is_classic(payload: Any) -> bool:
    return isinstance(payload, dict) and "current_state" in payload and "incident_id" in payload


def is_issue(payload: Any) -> bool:
    return (
        isinstance(payload, dict)
        and isinstance(payload.get("issueUrl"), str)
        and ("state" in payload or "id" in payload)
    )


def parse(payload: Any) -> list[NormalizedAlert]:
    body = require_dict(payload, "newrelic payload")
    return [parse_classic(body) if is_classic(body) else parse_issue(body)]


def state_of(value: Any, table: dict[str, tuple[Status, str]], where: str) -> tuple[Status, str]:
    state = text(value).lower()
    if state not in table:
        raise PayloadError(f"newrelic payload: unknown {where} {one_line(repr(value), 60)}")
    return table[state]


def parse_classic(body: dict[str, Any]) -> NormalizedAlert:
    status, action = state_of(body.get("current_state"), CLASSIC_STATES, "current_state")
    raw_targets = body.get("targets")
    targets = (
        [t for t in raw_targets if isinstance(t, dict)] if isinstance(raw_targets, list) else []
    )
    labels: dict[str, str] = {}
    for index, target in enumerate(targets):
        for key, value in string_labels(target.get("labels"), f"targets[{index}].labels").items():
            labels.setdefault(key, value)
    labels.update(
        {
            key: text(body[key])
            for key in ("policy_name", "condition_name", "account_name")
            if text(body.get(key))
        }
    )
    happened_at = parse_time(body.get("timestamp"), "timestamp")
    return NormalizedAlert(
        name=first_text(body.get("condition_name"), body.get("policy_name"))
        or f"New Relic incident {text(body['incident_id'])}",
        status=status,
        severity=normalize_severity(body.get("severity")),
        started_at=happened_at if status == "firing" else None,
        ended_at=happened_at if status == "resolved" else None,
        fingerprint=id_fingerprint(require_text(body["incident_id"], "newrelic incident_id")),
        fingerprint_fields=["incident_id"],
        host=first_text(*(target.get("name") for target in targets)),
        description=text(body.get("details")),
        labels=labels,
        annotations={
            key: body[key] for key in ("runbook_url", "event_type", "owner") if text(body.get(key))
        },
        source=SOURCE,
        action=action,
        url=text(body.get("incident_url")),
    )


def parse_issue(body: dict[str, Any]) -> NormalizedAlert:
    status, action = state_of(body.get("state"), ISSUE_STATES, "state")
    title = text(body.get("title"))
    conditions = names(body.get("alertConditionNames"))
    policies = names(body.get("alertPolicyNames"))
    # The condition name is stable across an issue's notifications; the title embeds values.
    name = first_text(*conditions, title)
    if not name:
        raise PayloadError("newrelic issue has no 'title' or 'alertConditionNames'")
    entities = names(body.get("impactedEntities"))
    labels = {
        "priority": text(body.get("priority")),
        "condition": ", ".join(conditions),
        "policy": ", ".join(policies),
        "workflow": text(body.get("workflowName")),
    }
    closed_at = parse_time(body.get("closedAt"), "closedAt")
    if status == "resolved" and closed_at is None:
        closed_at = parse_time(body.get("updatedAt"), "updatedAt")
    return NormalizedAlert(
        name=name,
        status=status,
        severity=normalize_severity(body.get("priority"), ISSUE_PRIORITY),
        started_at=parse_time(body.get("createdAt"), "createdAt"),
        ended_at=closed_at if status == "resolved" else None,
        fingerprint=id_fingerprint(require_text(body.get("id"), "newrelic issue id")),
        fingerprint_fields=["id"],
        host=entities[0] if entities else "",
        description=title,
        labels={key: value for key, value in labels.items() if value},
        annotations={
            key: body[key]
            for key in ("trigger", "impactedEntities", "totalIncidents", "owner", "acknowledgedAt")
            if body.get(key) not in (None, "", [])
        },
        source=SOURCE,
        action=action,
        url=text(body.get("issueUrl")),
    )


def names(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [text(item) for item in value if text(item)]
