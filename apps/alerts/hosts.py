"""The one rule for which host an alert is about.

Vendors name the host in different places: a field of their own (Datadog `host`, Zabbix
`hostname`, a New Relic entity name, an Opsgenie entity) or a label (`instance`, `host`, ...).
The parser passes its vendor field; labels are the fallback, in the order below. The name is
then cleaned the same way for everyone: `web-07:9100` -> `web-07`, `[2001:db8::7]:9100` ->
`2001:db8::7`, `Web-07.Example.com.` -> `web-07.example.com`, `http://web-07:9100/metrics` ->
`web-07`. The stored alert, its incident, grouping, routing and messages all use this name.
"""

import contextlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from apps.alerts.vendors.fields import unexpanded, unexpanded_note

HOST_LABELS = ("host", "hostname", "instance", "nodename", "node", "server", "host_name")
MAX_HOST_LENGTH = 255


def host_name(value: Any) -> str:
    """A host as named in a label or field, without scheme, port, brackets or trailing dot."""
    if not isinstance(value, str) or unexpanded(value):  # "$HOSTNAME", "{HOST.NAME}": no host
        return ""
    text = value.strip()
    if "://" in text:  # a probe target such as http://web-07:9100/metrics
        with contextlib.suppress(ValueError):  # a malformed URL stays as it is
            text = urlsplit(text).netloc or text
        text = text.rsplit("@", 1)[-1]
    if text.startswith("["):  # [IPv6] or [IPv6]:port
        end = text.find("]")
        if end > 0:
            text = text[1:end]
    elif text.count(":") == 1:  # name:port or IPv4:port; bare IPv6 has several colons
        name, port = text.split(":")
        if port.isdigit() or not port:
            text = name
    text = text.rstrip(".").strip().lower()  # host names are case-insensitive (RFC 4343)
    return text[:MAX_HOST_LENGTH]


def resolve_host(vendor_host: Any, labels: Mapping[str, Any] | None = None) -> str:
    """The host an alert is about: the vendor's own field, else the first host-like label."""
    name = host_name(vendor_host)
    if name:
        return name
    for key in HOST_LABELS:
        name = host_name((labels or {}).get(key))
        if name:
            return name
    return ""


def unexpanded_host_notes(vendor_host: Any, labels: Mapping[str, Any] | None = None) -> list[str]:
    """Parse notes for the host fields resolve_host passed over because the sender left a
    template variable unexpanded in them (the vendor's field, then the host-like labels it
    looked at before the one it took)."""
    notes = [unexpanded_note("host", vendor_host)] if unexpanded(vendor_host) else []
    if host_name(vendor_host):
        return notes
    for key in HOST_LABELS:
        value = (labels or {}).get(key)
        if unexpanded(value) and value != vendor_host:  # the vendor's field was this label
            notes.append(unexpanded_note(f"label {key}", value))
        elif host_name(value):
            break
    return notes
