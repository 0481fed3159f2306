"""Vendor parsers: one module per vendor, each with ``detect(payload)`` and ``parse(payload)``.

A plain dict registry maps vendor names to modules, imported on first use (through
apps.common.registry). Detection asks the specific vendors first (most specific shapes first)
and the generic format last.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from apps.common import registry

from .base import NormalizedAlert, PayloadError

__all__ = ["VENDORS", "NormalizedAlert", "PayloadError", "detect", "parse", "vendor_names"]

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
    """Parse a payload of the named vendor; PayloadError if it is not one or is malformed."""
    module = vendor_module(vendor)
    if not module.detect(payload):
        other = detect(payload)
        if other:
            raise PayloadError(f"payload is not {_a(vendor)} payload (it looks like {other})")
        raise PayloadError(f"payload is not {_a(vendor)} payload; no vendor recognises it")
    try:
        alerts: list[NormalizedAlert] = module.parse(payload)
    except PayloadError:
        raise
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        # A shape the parser did not foresee: still a bad payload, never a traceback.
        raise PayloadError(f"malformed {vendor} payload ({type(exc).__name__}: {exc})") from exc
    if not alerts:
        raise PayloadError(f"{vendor} payload holds no alerts")
    return alerts


def _a(vendor: str) -> str:
    return f"an {vendor}" if vendor[:1] in "aeiou" else f"a {vendor}"
