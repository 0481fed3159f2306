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
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from apps.alerts import vendors
from apps.alerts.grouping import GroupingError, group_fields, group_key, shorten
from apps.alerts.models import Alert
from apps.common.severity import SEVERITIES
from apps.common.text import one_line

DETECT_SOURCES = {None, "", "cli", "api", "webhook", "auto"}
CHECKS_SOURCE = "checks"
GENERIC_VENDOR = "generic"


class IngestError(ValueError):
    """The payload cannot be ingested; the message is one line meant for the sender."""


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
        if vendor is None:
            raise IngestError(
                "no vendor recognises this payload; post it to /api/alerts/<vendor>/ or use the "
                "generic format (see docs/alerts.md)"
            )
        return vendor, vendor
    if source == CHECKS_SOURCE:
        return GENERIC_VENDOR, CHECKS_SOURCE
    if source in vendors.VENDORS:
        return str(source), str(source)
    known = ", ".join([*vendors.vendor_names(), CHECKS_SOURCE])
    raise IngestError(f"unknown source {source!r}; expected one of: {known}")


def parse_payload(payload: Any, vendor: str) -> list[Any]:
    try:
        alerts = vendors.parse(payload, vendor)
    except vendors.PayloadError as exc:
        raise IngestError(one_line(exc)) from exc
    if not alerts:
        raise IngestError(f"the {vendor} payload holds no alerts")
    return alerts


def aware(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


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


def to_incoming(alert: Any, source: str, fields: list[str]) -> Incoming:
    status = str(alert.status)
    if status not in Alert.Status.values:
        raise IngestError(f"alert {alert.name!r} has status {status!r}; expected firing/resolved")
    severity = str(alert.severity) if alert.severity in SEVERITIES else "warning"
    name = str(alert.name or "unnamed alert")[:500]
    fingerprint = str(alert.fingerprint or "")
    fingerprint_fields = [str(f) for f in (alert.fingerprint_fields or [])]
    if not fingerprint:
        raw = json.dumps([source, name, alert.host, alert.labels], sort_keys=True, default=str)
        fingerprint = hashlib.sha256(raw.encode()).hexdigest()
        fingerprint_fields = ["source", "name", "host", "labels"]
    item = Incoming(
        fingerprint=shorten(fingerprint),
        fingerprint_fields=fingerprint_fields,
        group_key=group_key(alert, source, fields),
        name=name,
        status=status,
        severity=severity,
        host=str(alert.host or "")[:255],
        description=str(alert.description or ""),
        labels=dict(alert.labels or {}),
        annotations=dict(alert.annotations or {}),
        started_at=aware(alert.started_at),
        ended_at=aware(alert.ended_at),
        url=str(getattr(alert, "url", "") or "")[:2000],
        action=str(getattr(alert, "action", "") or ""),
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
