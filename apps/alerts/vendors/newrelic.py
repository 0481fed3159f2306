"""New Relic webhooks: classic alert notifications and workflow (issue) notifications.

Workflow payloads are user templates over New Relic's variables: besides the default template's
names (``id``, ``issueUrl``, ``alertConditionNames``...) the variables' own names are read
(``issueId``, ``issuePageUrl``, ``accumulations.conditionName``, ``entitiesData.names``,
``annotations.title``). Classic bodies without ``incident_id`` are identified by their condition
and target. What was filled in is noted.
"""

from __future__ import annotations

from typing import Any

from apps.common.text import one_line

from .base import (
    NormalizedAlert,
    PayloadError,
    Severity,
    Status,
    TestNotification,
    first_text,
    hash_fingerprint,
    id_fingerprint,
    parse_time,
    require_dict,
    require_text,
    string_labels,
    text,
)
from .fields import Notes, pick, severity_noted

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
    "resolved": ("resolved", ""),
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


CLASSIC_KEYS = (
    "incident_id", "condition_name", "condition_id", "policy_name", "policy_url",
    "violation_callback_url", "incident_url", "account_name", "condition_family_id",
)  # fmt: skip
# Names only a New Relic workflow template uses.
ISSUE_KEYS = (
    "issueUrl", "issuePageUrl", "issueId", "alertConditionNames", "alertPolicyNames",
    "impactedEntities", "totalIncidents", "workflowName", "accumulations", "entitiesData",
    "isCorrelated",
)  # fmt: skip


def is_classic(payload: Any) -> bool:
    return (
        isinstance(payload, dict)
        and "current_state" in payload
        and any(key in payload for key in CLASSIC_KEYS)
    )


def is_issue(payload: Any) -> bool:
    return (
        isinstance(payload, dict)
        and not is_classic(payload)
        and any(key in payload for key in ISSUE_KEYS)
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
    if text(body.get("current_state")).lower() == "test":
        raise TestNotification("newrelic test notification received; nothing stored")
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
    notes = Notes()
    incident_id = text(body.get("incident_id"))
    first_target = first_text(*(first_text(t.get("id"), t.get("name")) for t in targets))
    if incident_id:
        fingerprint, fields = id_fingerprint(incident_id), ["incident_id"]
    else:
        condition = first_text(body.get("condition_id"), body.get("condition_name"))
        if not condition:
            raise PayloadError(
                "newrelic payload has no incident_id, condition_id or condition_name"
            )
        notes.add("no incident_id: fingerprint from the condition and target")
        fingerprint = hash_fingerprint(condition, body.get("policy_name"), first_target)
        fields = ["condition_id", "policy_name", "targets"]
    if not text(body.get("severity")):
        notes.add("no severity: warning")
    return notes.attach(
        NormalizedAlert(
            name=first_text(body.get("condition_name"), body.get("policy_name"))
            or f"New Relic incident {incident_id}",
            status=status,
            severity=severity_noted(body.get("severity"), notes),
            started_at=happened_at if status == "firing" else None,
            ended_at=happened_at if status == "resolved" else None,
            fingerprint=fingerprint,
            fingerprint_fields=fields,
            host=first_text(*(target.get("name") for target in targets)),
            description=text(body.get("details")),
            labels=labels,
            annotations={
                key: body[key]
                for key in ("runbook_url", "event_type", "owner")
                if text(body.get(key))
            },
            source=SOURCE,
            action=action,
            url=text(body.get("incident_url")),
        )
    )


def nested(body: dict[str, Any], *path: str) -> Any:
    value: Any = body
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def issue_state(body: dict[str, Any], notes: Notes) -> tuple[Status, str]:
    if text(body.get("state")):
        return state_of(body.get("state"), ISSUE_STATES, "state")
    if text(body.get("closedAt")):
        notes.add("no state: resolved because closedAt is set")
        return "resolved", ""
    notes.add("no state: firing")
    return "firing", ""


def parse_issue(body: dict[str, Any]) -> NormalizedAlert:
    notes = Notes()
    status, action = issue_state(body, notes)
    title = first_text(text(body.get("title")), *names(nested(body, "annotations", "title")))
    conditions = names(body.get("alertConditionNames")) or names(
        nested(body, "accumulations", "conditionName")
    )
    policies = names(body.get("alertPolicyNames")) or names(
        nested(body, "accumulations", "policyName")
    )
    # The condition name is stable across an issue's notifications; the title embeds values.
    name = first_text(*conditions, title)
    if not name:
        raise PayloadError("newrelic issue has no 'title' or 'alertConditionNames'")
    entities = names(body.get("impactedEntities")) or names(nested(body, "entitiesData", "names"))
    id_key, issue_id = pick(body, ("id", "issueId"), "newrelic ")
    notes.alias(id_key, "id")
    url_key, url = pick(body, ("issueUrl", "issuePageUrl"))
    notes.alias(url_key, "issueUrl")
    labels = {
        "priority": text(body.get("priority")),
        "condition": ", ".join(conditions),
        "policy": ", ".join(policies),
        "workflow": text(body.get("workflowName")),
    }
    if not text(body.get("priority")):
        notes.add("no priority: warning")
    closed_at = parse_time(body.get("closedAt"), "closedAt")
    if status == "resolved" and closed_at is None:
        closed_at = parse_time(body.get("updatedAt"), "updatedAt")
    return notes.attach(
        NormalizedAlert(
            name=name,
            status=status,
            severity=severity_noted(body.get("priority"), notes, ISSUE_PRIORITY, "priority"),
            started_at=parse_time(body.get("createdAt"), "createdAt"),
            ended_at=closed_at if status == "resolved" else None,
            fingerprint=id_fingerprint(require_text(issue_id, "newrelic issue id")),
            fingerprint_fields=[id_key or "id"],
            host=entities[0] if entities else "",
            description=title,
            labels={key: value for key, value in labels.items() if value},
            annotations={
                key: body[key]
                for key in (
                    "trigger",
                    "impactedEntities",
                    "totalIncidents",
                    "owner",
                    "acknowledgedAt",
                )  # fmt: skip
                if body.get(key) not in (None, "", [])
            },
            source=SOURCE,
            action=action,
            url=url,
        )
    )


def names(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [text(item) for item in value if text(item)]
