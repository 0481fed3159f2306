"""Datadog monitor webhooks.

Datadog sends whatever the user's payload template says, built from its variables. Read here:
the default payload (``title``/``body``/``date``/``org``/``id``: the transition is in the
title's ``[Triggered]`` prefix), the common template (``alert_transition``, ``alert_type``,
``monitor_id``, ``scopes``...) and the names users give the variables (``alert_title`` for
$ALERT_TITLE, ``alert_id`` for $ALERT_ID, ``aggreg_key`` for $AGGREG_KEY...): see the alias
table in docs/alert-formats.md.
"""

from __future__ import annotations

import re
from typing import Any

from apps.common.text import one_line

from .base import (
    FIRING_WORDS,
    RESOLVED_WORDS,
    NormalizedAlert,
    PayloadError,
    Severity,
    Status,
    first_text,
    hash_fingerprint,
    labels_from_tags,
    lower_severity,
    normalize_status,
    parse_time,
    require_dict,
)
from .fields import (
    Notes,
    macro_keys,
    pick,
    picked,
    severity_noted,
    unexpanded,
    unexpanded_fields,
    unexpanded_note,
)

SOURCE = "datadog"

TITLE = ("alert_title", "title", "event_title", "alert_name")
MONITOR_ID = ("alert_id", "monitor_id")
CYCLE = ("aggreg_key", "aggregation_key", "alert_cycle_key")
TRANSITION = ("alert_transition", "transition", "alert_status", "status")
ALERT_TYPE = ("alert_type",)
PRIORITY = ("severity", "alert_priority", "priority")
SCOPE = ("alert_scope", "scopes", "scope")
BODY = ("body", "event_msg", "text_only_msg", "message", "text")
DATE = ("date", "last_updated", "alert_date")
LINK = ("link", "url", "alert_url")
# Keys named after Datadog's own variables: only a Datadog template sends them.
MARKERS = frozenset(
    (
        "alert_transition", "aggreg_key", "alert_cycle_key", "alert_query", "alert_metric",
        "alert_scope", "alert_title", "alert_priority", "alert_status", "event_msg",
        "text_only_msg",
    )
)  # fmt: skip

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
    "no data recovered": "resolved",
    "resolved": "resolved",
}
# $PRIORITY's values: how Datadog ranks the event in its stream, not how bad the alert is
# ($ALERT_PRIORITY is P1-P5).
EVENT_PRIORITIES = frozenset(("normal", "low"))
ALERT_TYPES: dict[str, Status] = {"error": "firing", "warning": "firing", "success": "resolved"}
ALERT_TYPE_SEVERITY: dict[str, Severity] = {
    "error": "critical",
    "warning": "warning",
    "success": "info",
    "info": "info",
}
# "[P2] [Triggered] Name" and "[Triggered on {service:api}] Name" -> "Name"
_TITLE_PREFIX = re.compile(r"^(\s*\[[^\]]*\])+\s*")
_BRACKETS = re.compile(r"\[([^\]]*)\]")


def detect(payload: Any) -> bool:
    if not isinstance(payload, dict):
        return False
    payload = macro_keys(payload)  # "ALERT_TITLE", "$ALERT_ID": the variables' own names
    if any(key in payload for key in MARKERS):
        return True
    if "monitor_id" in payload and ("alert_type" in payload or "alert_query" in payload):
        return True
    if "alert_id" in payload and "alert_type" in payload:
        return True
    return is_default_payload(payload)


def is_default_payload(payload: dict[str, Any]) -> bool:
    """The payload Datadog fills in when the user writes none."""
    org = payload.get("org")
    return (
        isinstance(org, dict)
        and "id" in org
        and "title" in payload
        and "last_updated" in payload
        and "event_type" in payload
    )


def transition_in_title(title: str) -> str:
    """'[P1] [Re-Triggered on {host:a}] CPU' -> 're-triggered' ('' when there is none)."""
    prefix = _TITLE_PREFIX.match(title)
    for bracket in _BRACKETS.findall(prefix.group(0) if prefix else ""):
        word = bracket.split(" on ", 1)[0].strip().lower()
        if word in TRANSITIONS:
            return word
    return ""


def parse(payload: Any) -> list[NormalizedAlert]:
    body = macro_keys(require_dict(payload, "datadog payload"))
    notes = Notes()
    used, title = pick(body, TITLE, "datadog ", notes)
    notes.alias(used, "title")
    name = _TITLE_PREFIX.sub("", title).strip() or title
    if not name:
        raise PayloadError(
            "datadog payload has no 'title' (or 'alert_title')" + unexpanded_fields(body, TITLE)
        )
    status = status_of(body, title, notes)
    used, scopes = pick(body, SCOPE)
    notes.alias(used, "scopes")
    labels = {**labels_from_tags(body.get("tags")), **labels_from_tags(scopes)}
    if unexpanded(labels.get("host")):
        notes.add(unexpanded_note("tag host", labels.pop("host")))
    host = first_text(labels.get("host"), pick(body, ("hostname", "host"), notes=notes)[1])
    used, monitor_id = pick(body, MONITOR_ID)
    notes.alias(used, "monitor_id")
    cycle_key = picked(body, CYCLE)
    if monitor_id:
        # Stable across transitions; 'id' is the event id and changes every time.
        fingerprint, fields = hash_fingerprint(monitor_id, scopes), ["monitor_id", "scopes"]
    elif cycle_key:
        notes.add("no monitor id: fingerprint from aggreg_key")
        fingerprint, fields = hash_fingerprint(cycle_key), ["aggreg_key"]
    else:
        notes.add("no monitor id: fingerprint from the title and scope")
        fingerprint, fields = hash_fingerprint(name, scopes or host), ["title", "scopes"]
    happened_at = parse_time(picked(body, DATE), "date")
    annotations = {
        key: body[key]
        for key in ("alert_transition", "alert_type", "alert_query", "event_type", "id")
        if picked(body, (key,))
    }
    if cycle_key:
        annotations["aggreg_key"] = cycle_key
    return [
        notes.attach(
            NormalizedAlert(
                name=name,
                status=status,
                severity=severity_of(body, notes),
                started_at=happened_at if status == "firing" else None,
                ended_at=happened_at if status == "resolved" else None,
                fingerprint=fingerprint,
                fingerprint_fields=fields,
                host=host,
                description=without_markdown_markers(picked(body, BODY)),
                labels=labels,
                annotations=annotations,
                source=SOURCE,
                url=picked(body, LINK),
            )
        )
    ]


def status_of(body: dict[str, Any], title: str, notes: Notes) -> Status:
    used, transition = pick(body, TRANSITION)
    notes.alias(used, "alert_transition")
    if transition.lower() in TRANSITIONS:
        return TRANSITIONS[transition.lower()]
    if transition.lower() in FIRING_WORDS | RESOLVED_WORDS:
        return normalize_status(transition, used)
    alert_type = picked(body, ALERT_TYPE).lower()
    if alert_type in ALERT_TYPES:
        return ALERT_TYPES[alert_type]
    if transition:
        raise PayloadError(
            f"datadog payload: unknown {used} {one_line(repr(transition), 40)} and alert_type "
            f"{one_line(repr(body.get('alert_type')), 40)}"
        )
    in_title = transition_in_title(title)
    if in_title:
        notes.add(f"status read from the title's [{in_title}]")
        return TRANSITIONS[in_title]
    notes.add("no alert_transition, alert_type or [transition] in the title: firing")
    return "firing"


def severity_of(body: dict[str, Any], notes: Notes) -> Severity:
    alert_type = picked(body, ALERT_TYPE).lower()
    by_type = ALERT_TYPE_SEVERITY.get(alert_type, "warning")
    used, priority = pick(body, PRIORITY)
    if used == "priority" and priority.lower() in EVENT_PRIORITIES:
        notes.add(f"priority {priority!r} is the event's priority ($PRIORITY), not a severity")
        used, priority = "", ""
    notes.alias(used, "severity")
    if not priority and alert_type not in ALERT_TYPE_SEVERITY:
        notes.add("no priority or alert_type: warning")
    severity = severity_noted(priority, notes, field=used) if priority else by_type
    transition = picked(body, TRANSITION).lower() or transition_in_title(picked(body, TITLE))
    # A Warn transition crossed the warning threshold, whatever the monitor's priority.
    if transition in ("warn", "re-warn") or alert_type == "warning":
        return lower_severity(severity, "warning")
    return severity


def without_markdown_markers(message: str) -> str:
    """$EVENT_MSG wrapped in Datadog's %%% markdown markers, without them (a % of the text,
    as in "at 80%", stays)."""
    message = message.strip()
    if message.startswith("%%%"):
        message = message[3:]
    if message.endswith("%%%"):
        message = message[:-3]
    return message.strip()
