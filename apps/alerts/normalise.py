"""Normalisation: a vendor payload becomes Incoming alerts, ready to compare with what is stored.

resolve_source picks the vendor parser and the source the alerts are stored under, the vendor
parser reads the payload (apps.alerts.vendors), and to_incoming adds what ingestion compares:
the group key and the content hash. No database access here: callers that hold a transaction
prepare a payload before they take SQLite's write lock.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apps.alerts import vendors
from apps.alerts.grouping import GroupingError, group_fields, group_key
from apps.alerts.hosts import resolve_host, unexpanded_host_notes
from apps.alerts.vendors.fields import attach_notes
from apps.common.redact import redact, redact_text
from apps.common.text import one_line

DETECT_SOURCES = {None, "", "cli", "api", "webhook", "auto"}
CHECKS_SOURCE = "checks"
AGENT_SOURCE = "agent"  # the hub's own alerts about its agents ("<host> stopped reporting")
# Sources of this project's own alerts: the generic format, stored under their own name.
INTERNAL_SOURCES = (CHECKS_SOURCE, AGENT_SOURCE)
GENERIC_VENDOR = "generic"


class IngestError(ValueError):
    """The payload cannot be ingested; the message is one line meant for the sender."""


class TestReceived(IngestError):
    """A vendor's test notification: nothing was stored, and that is the right answer."""


@dataclass
class Incoming:
    """One normalised alert, ready to compare with what is stored."""

    fingerprint: str
    fingerprint_fields: list[str]
    group_key: str
    name: str
    status: str
    severity: str
    host: str
    description: str
    labels: dict
    annotations: dict
    started_at: datetime | None
    ended_at: datetime | None
    url: str
    action: str
    content_hash: str = ""


@dataclass
class Prepared:
    """A parsed payload, ready to store: its items (one per fingerprint) and, in payload order,
    the group key of every alert the vendor parser produced."""

    source: str
    items: list[Incoming]
    group_keys: list[str]


def resolve_source(payload: Any, source: str | None) -> tuple[str, str]:
    """Return (vendor to parse with, source to store under)."""
    if source in DETECT_SOURCES:
        vendor = vendors.detect(payload)
        if vendor is None and vendors.no_alerts(payload):
            raise IngestError("the body has no alerts ('alerts' is an empty list)")
        if vendor is None:
            raise IngestError(
                "no vendor recognises this payload; post it to /api/alerts/<vendor>/ or use the "
                "generic format (see docs/alerts.md)"
            )
        return vendor, vendor
    if source in INTERNAL_SOURCES:
        return GENERIC_VENDOR, str(source)
    if source in vendors.VENDORS:
        return str(source), str(source)
    known = ", ".join([*vendors.vendor_names(), *INTERNAL_SOURCES])
    raise IngestError(f"unknown source {source!r}; expected one of: {known}")


def parse_payload(payload: Any, vendor: str) -> list[vendors.NormalizedAlert]:
    """The vendor's alerts of the payload: never an empty list (vendors.parse refuses one)."""
    try:
        return vendors.parse(payload, vendor)
    except vendors.TestNotification as exc:
        raise TestReceived(one_line(exc)) from exc
    except vendors.PayloadError as exc:
        raise IngestError(one_line(exc)) from exc


def content_hash(item: Incoming) -> str:
    """What makes a re-sent alert "identical". Times are left out on purpose: parsers fill
    a missing start with the time of parsing, and a firing alert is the same alert whatever
    time a re-send carries; a real change of state changes the status anyway."""
    doc = [
        item.name, item.status, item.severity, item.host, item.description, item.labels,
        item.annotations, item.url, item.action, item.fingerprint_fields, item.group_key,
    ]  # fmt: skip
    raw = json.dumps(doc, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


PARSE_NOTES = "parse_notes"


def annotations_with_notes(alert: vendors.NormalizedAlert) -> dict:
    """The alert's annotations, plus the parser's fallbacks under ``parse_notes``."""
    annotations = dict(alert.annotations)
    if alert.parse_notes:
        annotations[PARSE_NOTES] = list(alert.parse_notes)
    return annotations


def to_incoming(alert: vendors.NormalizedAlert, source: str, fields: list[str]) -> Incoming:
    """What a vendor parser guarantees is not checked again: a status of firing/resolved, a
    severity of info/warning/critical, a non-empty name and fingerprint (at most 200
    characters), string fields and aware times (parse_time, now_utc). The host is resolved
    here, once for every vendor (apps.alerts.hosts), before the group key is made from it."""
    attach_notes(alert, unexpanded_host_notes(alert.host, alert.labels))
    alert.host = resolve_host(alert.host, alert.labels)
    item = Incoming(
        fingerprint=alert.fingerprint,
        fingerprint_fields=list(alert.fingerprint_fields),
        group_key=group_key(alert, source, fields),
        name=alert.name[:500],
        status=alert.status,
        severity=alert.severity,
        host=alert.host,
        description=redact_text(alert.description),
        labels=redact(dict(alert.labels)),  # an api_key label, a URL with a password
        annotations=redact(annotations_with_notes(alert)),
        started_at=alert.started_at,
        ended_at=alert.ended_at,
        url=redact_text(alert.url[:2000]),
        action=alert.action,
    )
    item.content_hash = content_hash(item)
    return item


def prepare(payload: Any, source: str | None) -> tuple[str, list[Incoming]]:
    prepared = prepare_payload(payload, source)
    return prepared.source, prepared.items


def prepare_payload(payload: Any, source: str | None) -> Prepared:
    vendor, stored_source = resolve_source(payload, source)
    parsed = parse_payload(payload, vendor)
    try:
        fields = group_fields()
    except GroupingError as exc:
        raise IngestError(str(exc)) from exc
    by_fingerprint: dict[str, Incoming] = {}
    group_keys = []
    for alert in parsed:
        item = to_incoming(alert, stored_source, fields)
        by_fingerprint[item.fingerprint] = item  # the same alert twice in one body: last wins
        group_keys.append(item.group_key)
    return Prepared(stored_source, list(by_fingerprint.values()), group_keys)
