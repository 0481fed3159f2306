"""Zabbix webhook media types.

Zabbix has no fixed webhook body: a media type's script builds it from parameters the user
names. The recommended media type (docs/alert-formats.md) sends ``event_id``, ``trigger_id``,
``trigger_name``, ``trigger_severity``, ``event_nseverity``, ``host_name``, ``event_value``,
``event_date``/``event_time`` and ``event_tags``; the names other media types use (among them
those of the media types Zabbix ships: ``eventname``, ``eventvalue``, ``eventdate``...) are read
as aliases, and macros Zabbix left unexpanded (``{EVENT.RECOVERY.ID}``) are empty. A body needs
a trigger name; everything else has a noted default.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from apps.common.text import one_line

from .base import (
    NormalizedAlert,
    PayloadError,
    Severity,
    Status,
    hash_fingerprint,
    labels_from_tags,
    now_utc,
    require_dict,
    text,
)
from .fields import (
    Notes,
    macro_keys,
    pick,
    picked,
    severity_noted,
    unexpanded_fields,
    value_text,
)

SOURCE = "zabbix"

EVENT_ID = ("event_id", "eventid", "id")
TRIGGER_ID = ("trigger_id", "triggerid")
NAME = (
    "trigger_name", "trigger", "event_name", "eventname", "name", "alert_subject", "subject",
    "title",
)  # fmt: skip
SEVERITY_KEYS = (
    "trigger_severity", "event_nseverity", "trigger_nseverity", "event_severity", "severity",
    "nseverity", "priority",
)  # fmt: skip
HOST = ("host_name", "hostname", "host", "host_host", "host_ip", "hostip")
STATUS = (
    "event_value", "eventvalue", "status", "trigger_status", "trigger_value", "event_status",
    "value",
)  # fmt: skip
DESCRIPTION = (
    "item", "alert_message", "message", "event_opdata", "trigger_description", "triggerdesc",
    "description",
)  # fmt: skip
LINK = ("link", "url", "event_url", "trigger_url")
SUBJECTS = ("alert_subject", "subject", "title")
_SUBJECT_PREFIX = re.compile(r"^(Problem|Resolved( in [^:]*)?|Updated? problem[^:]*):\s*", re.I)
# Keys only a Zabbix media type sends (the parameters named after Zabbix macros).
MARKERS = frozenset(
    (
        "event_id", "eventid", "trigger_id", "triggerid", "trigger_name", "trigger_severity",
        "trigger_status", "event_value", "event_nseverity", "event_severity", "event_source",
        "event_update_status", "event_recovery_id", "event_tags_json", "zabbix_url",
        "trigger_value", "trigger_nseverity", "host_host", "event_name", "alert_subject",
        # the parameter names of the media types Zabbix ships (PagerDuty and others)
        "eventname", "eventvalue", "eventdate", "eventtime", "eventtags", "eventupdate",
        "eventack", "triggerdesc", "triggeropdata",
    )
)  # fmt: skip

STATUSES: dict[str, Status] = {
    "problem": "firing",
    "firing": "firing",
    "1": "firing",
    "ok": "resolved",
    "resolved": "resolved",  # with "firing": IncidentRelay's documented Zabbix body
    "recovery": "resolved",
    "0": "resolved",
}
# {TRIGGER.SEVERITY} names and {EVENT.NSEVERITY} numbers 0-5.
SEVERITY: dict[str, Severity] = {
    "disaster": "critical",
    "5": "critical",
    "high": "critical",
    "4": "critical",
    "average": "warning",
    "3": "warning",
    "warning": "warning",
    "2": "warning",
    "information": "info",
    "1": "info",
    "not_classified": "info",
    "0": "info",
}


def detect(payload: Any) -> bool:
    if not isinstance(payload, dict) or "issueUrl" in payload or "issueId" in payload:
        return False
    if any(key in MARKERS for key in macro_keys(payload)):
        return True
    # The classic parameters (hostname, trigger, status), as in Zulip's setup.
    return "trigger" in payload and all(
        isinstance(payload.get(key), str) for key in ("hostname", "status")
    )


def status_of(body: dict[str, Any], notes: Notes) -> Status:
    used, raw = pick(body, STATUS)
    if not used:
        notes.add("no event_value or status: firing")
        return "firing"
    notes.alias(used, "event_value")
    status = STATUSES.get(raw.lower())
    if status is None:
        raise PayloadError(
            f"zabbix {used} must be PROBLEM, FIRING, RESOLVED, OK, 1 or 0, "
            f"got {one_line(repr(raw), 60)}"
        )
    return status


def event_time(body: dict[str, Any], prefix: str) -> datetime | None:
    """{EVENT.DATE} {EVENT.TIME} ('2024.05.01' '12:00:00', the server's zone: taken as UTC), as
    event_date/event_time or, in the media types Zabbix ships, eventdate/eventtime."""
    joined = prefix.replace("_", "")
    day = value_text(body.get(f"{prefix}_date")) or value_text(body.get(f"{joined}date"))
    clock = value_text(body.get(f"{prefix}_time")) or value_text(body.get(f"{joined}time"))
    if not day:
        return None
    try:
        moment = datetime.strptime(f"{day} {clock or '00:00:00'}", "%Y.%m.%d %H:%M:%S")
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC)


def tags_of(body: dict[str, Any]) -> dict[str, str]:
    raw = body.get("event_tags_json")
    if isinstance(raw, list):
        return {
            text(tag.get("tag")): text(tag.get("value"))
            for tag in raw
            if isinstance(tag, dict) and text(tag.get("tag"))
        }
    listed = value_text(body.get("event_tags")) or value_text(body.get("eventtags"))
    return labels_from_tags(listed or body.get("tags"))


def identity(body: dict[str, Any], name: str, host: str, link: str, notes: Notes):
    query = link_query(link)
    trigger_id = picked(body, TRIGGER_ID) or (query.get("triggerid") or [""])[0]
    event_id = picked(body, EVENT_ID) or (query.get("eventid") or [""])[0]
    # eventid differs between the problem and its recovery; the trigger is the same.
    if trigger_id:
        return trigger_id, event_id, hash_fingerprint(trigger_id, host), ["triggerid", "hostname"]
    notes.add("no trigger id: fingerprint from the trigger name and host")
    return trigger_id, event_id, hash_fingerprint(name, host), ["trigger", "hostname"]


def parse(payload: Any) -> list[NormalizedAlert]:
    body = macro_keys(require_dict(payload, "zabbix payload"))
    notes = Notes()
    used, name = pick(body, NAME, "zabbix ", notes)
    if not name:
        raise PayloadError(
            "zabbix payload has no trigger name (trigger_name, trigger or name)"
            + unexpanded_fields(body, NAME)
        )
    notes.alias(used, "trigger_name")
    if used in SUBJECTS:
        # The default message subject, "Problem: <name>" / "Resolved in 5m: <name>".
        name = _SUBJECT_PREFIX.sub("", name) or name
    used, host = pick(body, HOST, "zabbix ", notes)
    notes.alias(used, "host_name")
    if not host:
        notes.add("no host_name: the alert has no host")
    status = status_of(body, notes)
    severity_key, raw_severity = pick(body, SEVERITY_KEYS)
    notes.alias(severity_key, "trigger_severity")
    if not raw_severity:
        notes.add("no trigger_severity: warning")
    link = picked(body, LINK)
    trigger_id, event_id, fingerprint, fields = identity(body, name, host, link, notes)
    started = event_time(body, "event")
    ended = event_time(body, "event_recovery") if status == "resolved" else None
    if status == "firing" and started is None:
        notes.add("no event_date/event_time: the receive time")
        started = now_utc()
    if status == "resolved" and ended is None:
        notes.add("no event_recovery_date/event_recovery_time: the receive time")
        ended = now_utc()
    labels = tags_of(body)
    if trigger_id:
        labels["triggerid"] = trigger_id
    annotations: dict[str, Any] = {"eventid": event_id} if event_id else {}
    recovery_id = picked(body, ("event_recovery_id",))
    if recovery_id:
        annotations["recovery_eventid"] = recovery_id
    return [
        notes.attach(
            NormalizedAlert(
                name=name,
                status=status,
                severity=severity_noted(raw_severity, notes, SEVERITY, severity_key),
                started_at=started if status == "firing" else None,
                ended_at=ended if status == "resolved" else None,
                fingerprint=fingerprint,
                fingerprint_fields=fields,
                host=host,
                description=picked(body, DESCRIPTION),
                labels=labels,
                annotations=annotations,
                source=SOURCE,
                url=link,
            )
        )
    ]


def link_query(link: str) -> dict[str, list[str]]:
    try:
        return parse_qs(urlsplit(link).query)
    except ValueError:  # e.g. a malformed IPv6 host
        return {}
