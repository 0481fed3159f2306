"""Helpers for the alerts tests: generic-format payloads and API keys."""

from typing import Any

import pytest

from apps.common.models import ApiKey


def generic_alert(
    name: str = "DiskFull",
    *,
    host: str = "web-01",
    status: str = "firing",
    severity: str = "warning",
    fingerprint: str | None = None,
    **extra: Any,
) -> dict:
    alert = {"name": name, "host": host, "status": status, "severity": severity, **extra}
    if fingerprint is not None:
        alert["fingerprint"] = fingerprint
    return alert


def generic_payload(*alerts: dict) -> dict:
    return {"alerts": list(alerts)}


@pytest.fixture
def make_alert():
    return generic_alert


@pytest.fixture
def make_payload():
    return generic_payload


@pytest.fixture
def ingest_key(db) -> str:
    return ApiKey.create_key("test-ingest", ["ingest"])[1]


@pytest.fixture
def read_key(db) -> str:
    return ApiKey.create_key("test-read", ["read"])[1]
