"""Grafana webhooks: unified alerting (Alertmanager shape) and legacy alerting (evalMatches)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

from apps.common.text import one_line

from .alertmanager import looks_grafana, parse_group
from .base import (
    NormalizedAlert,
    PayloadError,
    Status,
    first_text,
    hash_fingerprint,
    labels_from_tags,
    now_utc,
    require_dict,
    require_list,
    string_labels,
    text,
)
from .fields import Notes, severity_noted

SOURCE = "grafana"

LEGACY_STATES: dict[str, Status] = {
    "alerting": "firing",
    "no_data": "firing",
    "pending": "firing",
    "ok": "resolved",
    "paused": "resolved",
}
LEGACY_IDENTITY = ("ruleId", "orgId", "dashboardId", "panelId")
UNIFIED_EXTRAS = ("valueString", "values", "imageURL", "dashboardURL", "panelURL", "silenceURL")


def detect(payload: Any) -> bool:
    return is_unified(payload) or is_legacy(payload)


def is_unified(payload: Any) -> bool:
    """Unified alerting: the Alertmanager shape plus what only Grafana adds (``orgId``,
    ``"version": "1"``, per-alert dashboard/panel/silence links or values); ``groupKey``
    and ``version`` may be missing in bodies relayed or written by hand."""
    return (
        isinstance(payload, dict)
        and isinstance(payload.get("alerts"), list)
        and looks_grafana(payload)
        and all(isinstance(item, dict) for item in payload["alerts"])
    )


def is_legacy(payload: Any) -> bool:
    """Legacy (pre-8) alerting: a rule's state, with ``evalMatches`` (empty when ok)."""
    if not isinstance(payload, dict) or "alerts" in payload or "state" not in payload:
        return False
    has_rule = "ruleName" in payload or "ruleId" in payload or "ruleUrl" in payload
    return has_rule and (isinstance(payload.get("evalMatches"), list) or "ruleUrl" in payload)


def parse(payload: Any) -> list[NormalizedAlert]:
    if is_legacy(payload):
        return [parse_legacy(payload)]
    alerts = parse_group(payload, SOURCE)
    base = text(payload.get("externalURL"))
    for alert, item in zip(alerts, payload["alerts"], strict=True):
        add_unified_extras(alert, item, base)
    return alerts


def add_unified_extras(alert: NormalizedAlert, item: dict[str, Any], base: str) -> None:
    for key in UNIFIED_EXTRAS:
        if item.get(key) not in (None, "", {}, []):
            alert.annotations.setdefault(key, item[key])
    links = (text(item.get(key)) for key in ("generatorURL", "panelURL", "dashboardURL"))
    # A test alert's generatorURL can be a bare query ("?orgId=1"): no page to open.
    alert.url = first_text(*(absolute(link, base) for link in links if link[:1] != "?"))


def absolute(link: str, base: str) -> str:
    """A link Grafana sent relative to its own address, made absolute with externalURL."""
    try:
        if not link or urlsplit(link).scheme or urlsplit(base).scheme not in ("http", "https"):
            return link
        return urljoin(base, link)
    except ValueError:  # e.g. a malformed IPv6 host: kept as sent
        return link


def parse_legacy(payload: dict[str, Any]) -> NormalizedAlert:
    state = text(payload.get("state")).lower()
    if state not in LEGACY_STATES:
        raise PayloadError(f"grafana legacy payload: unknown state {one_line(repr(state), 60)}")
    status = LEGACY_STATES[state]
    name = first_text(payload.get("ruleName"), payload.get("title"))
    if not name:
        raise PayloadError("grafana legacy payload has no 'ruleName' or 'title'")
    notes = Notes()
    raw_matches = payload.get("evalMatches")
    if raw_matches is None:
        notes.add("no evalMatches: no values")
    matches = [
        require_dict(match, f"evalMatches[{index}]")
        for index, match in enumerate(require_list(raw_matches or [], "evalMatches"))
    ]
    match_labels: dict[str, str] = {}
    for index, match in enumerate(matches):
        for key, value in string_labels(match.get("tags"), f"evalMatches[{index}].tags").items():
            match_labels.setdefault(key, value)
    rule_tags = payload.get("tags")
    tags = (
        string_labels(rule_tags, "tags")
        if isinstance(rule_tags, dict)
        else labels_from_tags(rule_tags)
    )
    labels = {**match_labels, **tags}
    identity = {key: payload[key] for key in LEGACY_IDENTITY if text(payload.get(key))}
    if "ruleId" in identity:
        fingerprint, fields = hash_fingerprint(identity), list(identity)
    else:
        fingerprint, fields = hash_fingerprint(name), ["ruleName"]
    # Legacy alerting sends no timestamp: the receive time is the best there is.
    received = now_utc()
    severity_tag = first_text(tags.get("severity"), tags.get("priority"), tags.get("level"))
    if not severity_tag:
        notes.add("no severity tag: warning")
    return notes.attach(
        NormalizedAlert(
            name=name,
            status=status,
            severity=severity_noted(severity_tag, notes, field="severity tag"),
            started_at=received if status == "firing" else None,
            ended_at=received if status == "resolved" else None,
            fingerprint=fingerprint,
            fingerprint_fields=fields,
            host=first_text(match_labels.get("instance"), match_labels.get("host")),
            description=text(payload.get("message")),
            labels=labels,
            annotations={
                "title": text(payload.get("title")),
                "state": state,
                "evalMatches": [
                    {"metric": match.get("metric"), "value": match.get("value")}
                    for match in matches
                ],
            },
            source=SOURCE,
            url=text(payload.get("ruleUrl")),
        )
    )
