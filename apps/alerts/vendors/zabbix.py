"""Zabbix webhook media type with the parameters of the shared fixtures.

Zabbix has no fixed webhook body; the media type's script builds it. Parameters read:
``hostname`` ({HOST.NAME}), ``trigger`` ({TRIGGER.NAME}), ``status`` ({TRIGGER.STATUS}),
``severity`` ({TRIGGER.SEVERITY}), ``item`` ({ITEM.NAME1} is {ITEM.VALUE1}) and ``link``
(a frontend URL with ``triggerid`` and ``eventid``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from apps.common.text import one_line

from .base import (
    NormalizedAlert,
    PayloadError,
    Severity,
    Status,
    hash_fingerprint,
    normalize_severity,
    now_utc,
    require_dict,
    require_text,
    text,
)

SOURCE = "zabbix"

STATUSES: dict[str, Status] = {"problem": "firing", "ok": "resolved", "resolved": "resolved"}
SEVERITY: dict[str, Severity] = {
    "disaster": "critical",
    "high": "critical",
    "average": "warning",
    "warning": "warning",
    "information": "info",
    "not_classified": "info",
}


def detect(payload: Any) -> bool:
    return (
        isinstance(payload, dict)
        and isinstance(payload.get("hostname"), str)
        and isinstance(payload.get("trigger"), str)
        and isinstance(payload.get("status"), str)
    )


def parse(payload: Any) -> list[NormalizedAlert]:
    body = require_dict(payload, "zabbix payload")
    host = require_text(body.get("hostname"), "zabbix hostname")
    name = require_text(body.get("trigger"), "zabbix trigger")
    raw_status = text(body.get("status"))
    status = STATUSES.get(raw_status.lower())
    if status is None:
        raise PayloadError(
            f"zabbix status must be PROBLEM or OK, got {one_line(repr(raw_status), 60)}"
        )
    link = text(body.get("link"))
    query = link_query(link)
    trigger_id = (query.get("triggerid") or [""])[0]
    event_id = (query.get("eventid") or [""])[0]
    # eventid differs between the problem and its recovery; the trigger is the same.
    if trigger_id:
        fingerprint, fields = hash_fingerprint(trigger_id, host), ["triggerid", "hostname"]
    else:
        fingerprint, fields = hash_fingerprint(name, host), ["trigger", "hostname"]
    received = now_utc()  # Zabbix sends no time in these parameters.
    return [
        NormalizedAlert(
            name=name,
            status=status,
            severity=normalize_severity(body.get("severity"), SEVERITY),
            started_at=received if status == "firing" else None,
            ended_at=received if status == "resolved" else None,
            fingerprint=fingerprint,
            fingerprint_fields=fields,
            host=host,
            description=text(body.get("item")),
            labels={"triggerid": trigger_id} if trigger_id else {},
            annotations={"eventid": event_id} if event_id else {},
            source=SOURCE,
            url=link,
        )
    ]


def link_query(link: str) -> dict[str, list[str]]:
    try:
        return parse_qs(urlsplit(link).query)
    except ValueError:  # e.g. a malformed IPv6 host
        return {}
