"""Ingest alerts: the public surface of alert ingestion; callers import from here.

ingest() is prepare (apps.alerts.normalise: vendor payload -> Incoming alerts, no database)
then store (apps.alerts.ingestion: dedup, grouping into incidents, transitions), which writes
with the raw SQL of apps.alerts.sql.
"""

from __future__ import annotations

from typing import Any

from apps.alerts.ingestion import Ingestion, IngestResult, store
from apps.alerts.normalise import (
    CHECKS_SOURCE,
    Incoming,
    IngestError,
    Prepared,
    TestReceived,
    prepare,
    prepare_payload,
)
from apps.alerts.sql import ALERT_INSERT_COLUMNS, insert_new

__all__ = [
    "ALERT_INSERT_COLUMNS",
    "CHECKS_SOURCE",
    "Incoming",
    "IngestError",
    "IngestResult",
    "Ingestion",
    "Prepared",
    "TestReceived",
    "ingest",
    "insert_new",
    "prepare",
    "prepare_payload",
    "store",
]


def ingest(payload: Any, source: str | None = None, *, trace_id: str = "") -> IngestResult:
    """Store the alerts of one payload; raises IngestError for a payload it cannot use."""
    stored_source, items = prepare(payload, source)
    return store(stored_source, items, trace_id=trace_id)
