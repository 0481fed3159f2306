"""Reading user-templated bodies: alias tables, unexpanded macros and the notes of fallbacks.

Zabbix media types, Datadog payload templates and New Relic workflow templates are written by
users, so the same value arrives under several names. A parser asks ``pick`` for the first
alias that holds a value and records in ``notes`` every fallback it took, so that
``manage.py explain_alert`` can say how an alert was read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from apps.common.text import one_line

from .base import (
    DEFAULT_SEVERITY,
    NormalizedAlert,
    PayloadError,
    Severity,
    known_severity,
    text,
    type_name,
)

# A template variable the sender left unexpanded: Zabbix {EVENT.ID}, Datadog $ALERT_ID,
# Handlebars/Jinja {{ issueId }}, Grafana {{ .Labels.x }}. It carries no value.
_UNEXPANDED = re.compile(
    r"^(\{[A-Z][A-Z0-9_]*(\.[A-Z0-9_]+)+\}|\$[A-Z][A-Z0-9_]+|\{\{.*\}\}|\{\$[A-Z0-9_.]+\})$"
)


_KEY_DECORATION = re.compile(r"[{}$\s]")


def macro_keys(body: Mapping[str, Any]) -> dict[str, Any]:
    """The body with its keys also under their snake-case form: parameters named after the
    macro or variable itself ("EVENT.ID", "{TRIGGER.NAME}", "$ALERT_ID", "eventId") are read
    like "event_id", "trigger_name", "alert_id", "eventid". The first key of a form wins."""
    result = dict(body)
    for key, value in body.items():
        if not isinstance(key, str):
            continue
        snake = _KEY_DECORATION.sub("", key).lower().replace(".", "_")
        result.setdefault(snake, value)
    return result


def unexpanded(value: Any) -> bool:
    return isinstance(value, str) and bool(_UNEXPANDED.match(value.strip()))


def value_text(value: Any) -> str:
    """A scalar as text; an unexpanded template variable is no value."""
    if unexpanded(value):
        return ""
    return text(value)


def pick(
    body: Mapping[str, Any], aliases: Iterable[str], where: str = "", notes: Notes | None = None
) -> tuple[str, str]:
    """(alias, text) of the first alias with a scalar value, or ("", "").

    A container where a scalar belongs is refused with a one-line error naming the field. An
    unexpanded template variable is no value; with ``notes`` that is noted (host and name
    fields: a "$HOSTNAME" must never pass for a host).
    """
    for alias in aliases:
        value = body.get(alias)
        if isinstance(value, dict | list):
            if where:
                raise PayloadError(f"{where}{alias} must be a string, got {type_name(value)}")
            continue
        if notes is not None and unexpanded(value):
            notes.add(unexpanded_note(alias, value))
            continue
        found = value_text(value)
        if found:
            return alias, found
    return "", ""


def unexpanded_note(field: str, value: Any) -> str:
    return f"{field} {one_line(repr(text(value)), 60)} is an unexpanded template variable: no value"


def unexpanded_fields(body: Any, aliases: Iterable[str]) -> str:
    """ "; name '{TRIGGER.NAME}' is an unexpanded template variable" for an error that says a
    field is missing, when the sender did send it but left it unexpanded ("" otherwise)."""
    if not isinstance(body, Mapping):
        return ""
    found = [
        f"{alias} {one_line(repr(text(body[alias])), 60)}"
        for alias in aliases
        if unexpanded(body.get(alias))
    ]
    if not found:
        return ""
    if len(found) == 1:
        return f"; {found[0]} is an unexpanded template variable"
    return f"; {', '.join(found)} are unexpanded template variables"


def picked(body: Mapping[str, Any], aliases: Iterable[str], where: str = "") -> str:
    return pick(body, aliases, where)[1]


class Notes:
    """The fallbacks one alert was read with, in the order they were taken."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, note: str) -> None:
        if note not in self.items:
            self.items.append(note)

    def alias(self, used: str, canonical: str) -> None:
        """Record that ``canonical`` was read from its alias ``used``."""
        if used and used != canonical:
            self.add(f"{canonical} read from '{used}'")

    def attach(self, alert: NormalizedAlert) -> NormalizedAlert:
        attach_notes(alert, self.items)
        return alert


def attach_notes(alert: NormalizedAlert, notes: Iterable[str]) -> None:
    """Add notes to ``alert.parse_notes`` (stored as ``annotations['parse_notes']``)."""
    for note in notes:
        if note not in alert.parse_notes:
            alert.parse_notes.append(note)


def severity_noted(
    value: Any,
    notes: Notes,
    table: Mapping[str, Severity] | None = None,
    field: str = "severity",
    default: Severity = DEFAULT_SEVERITY,
) -> Severity:
    """The severity a vendor's word or number names (normalize_severity's tables); a word no
    table knows gives ``default`` and a note naming the word. A missing value is the
    parser's to note: it knows which fields it looked at."""
    severity = known_severity(value, table)
    if severity is not None:
        return severity
    if text(value):
        notes.add(f"unknown {field} {one_line(repr(text(value)), 60)}: {default}")
    return default
