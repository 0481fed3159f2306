"""Vendor parsers: one module per vendor, each with ``detect(payload)`` and ``parse(payload)``.

A plain dict registry maps vendor names to modules, imported on first use (through
apps.common.registry). Detection asks the specific vendors first (most specific shapes first)
and the generic format last.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from apps.common import registry

from .base import NormalizedAlert, PayloadError, TestNotification

__all__ = [
    "VENDORS", "NormalizedAlert", "PayloadError", "TestNotification", "detect", "no_alerts",
    "parse", "vendor_names",
]  # fmt: skip

# Order is detection order: most specific first, generic last.
VENDORS: dict[str, str] = {
    "pagerduty": "apps.alerts.vendors.pagerduty",
    "opsgenie": "apps.alerts.vendors.opsgenie",
    "grafana": "apps.alerts.vendors.grafana",
    "alertmanager": "apps.alerts.vendors.alertmanager",
    "newrelic": "apps.alerts.vendors.newrelic",
    "datadog": "apps.alerts.vendors.datadog",
    "zabbix": "apps.alerts.vendors.zabbix",
    "generic": "apps.alerts.vendors.generic",
}
GENERIC = "generic"


def vendor_names() -> list[str]:
    return list(VENDORS)


def vendor_module(vendor: str) -> ModuleType:
    try:
        return registry.load(VENDORS, vendor, "vendor")
    except registry.UnknownName as exc:
        raise PayloadError(str(exc)) from None


def specific_vendor(payload: Any) -> str | None:
    """The first non-generic vendor whose detector claims the payload."""
    for vendor in VENDORS:
        if vendor != GENERIC and vendor_module(vendor).detect(payload):
            return vendor
    return None


def detect(payload: Any) -> str | None:
    """The vendor whose detector claims the payload, or None."""
    vendor = specific_vendor(payload)
    if vendor is None and vendor_module(GENERIC).detect(payload):
        return GENERIC
    return vendor


def parse(payload: Any, vendor: str) -> list[NormalizedAlert]:
    """Parse a payload of the named vendor; PayloadError if it is not one or is malformed.

    The URL names the vendor, so its lenient parser reads the body even when its detector
    does not claim it (user-templated bodies use names no detector can foresee). Only a body
    another specific vendor claims is refused unread: that is a sender posting to the wrong
    URL, and reading it as the named vendor would store nonsense."""
    module = vendor_module(vendor)
    claimed = bool(module.detect(payload))
    other = None if claimed else detect(payload)
    if other not in (None, GENERIC):
        raise PayloadError(f"payload is not {_a(vendor)} payload (it looks like {other})")
    if not claimed and no_alerts(payload):
        raise PayloadError("the body has no alerts ('alerts' is an empty list)")
    try:
        alerts: list[NormalizedAlert] = module.parse(payload)
    except TestNotification:
        raise
    except PayloadError as exc:
        if claimed:
            raise
        hint = f" (it looks like {other})" if other else ""
        raise PayloadError(f"{exc}{hint}") from exc
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        # A shape the parser did not foresee: still a bad payload, never a traceback.
        raise PayloadError(f"malformed {vendor} payload ({type(exc).__name__}: {exc})") from exc
    if not alerts:
        raise PayloadError(f"{vendor} payload holds no alerts")
    if not claimed:
        for alert in alerts:
            note = f"read as {vendor} because the URL names it (the body has no {vendor} mark)"
            if note not in alert.parse_notes:
                alert.parse_notes.insert(0, note)
    return alerts


def no_alerts(payload: Any) -> bool:
    """A body whose only alerts list is empty: nothing to read, whatever the vendor."""
    return isinstance(payload, dict | list) and (
        payload == [] or (isinstance(payload, dict) and payload.get("alerts") == [])
    )


def _a(vendor: str) -> str:
    return f"an {vendor}" if vendor[:1] in "aeiou" else f"a {vendor}"
