"""The one outbound HTTP client: timeouts on every call and the private-address policy.

No other module opens sockets to user-given URLs. Addresses are resolved and checked before
each request: link-local and cloud metadata addresses are always refused (also when written as
IPv4-mapped IPv6, ::ffff:169.254.169.254); private, loopback and other non-global addresses only
pass with OUTBOUND_ALLOW_PRIVATE=1, or with allow_private=True for destinations the operator
configured (PROMETHEUS_URL), never for URLs taken from alerts or API callers.
"""

import ipaddress
import socket
import time
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings

if TYPE_CHECKING:
    import ssl

    import httpx  # imported on first request: it costs ~50 ms at start-up

ALWAYS_BLOCKED = [
    ipaddress.ip_network("169.254.0.0/16"),  # link-local, incl. 169.254.169.254 metadata
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fd00:ec2::/32"),  # AWS IMDS over IPv6
    ipaddress.ip_network("100.100.100.200/32"),  # Alibaba metadata
    ipaddress.ip_network("0.0.0.0/8"),
]


class OutboundBlocked(Exception):
    """The destination is refused by the outbound address policy."""


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        import httpx

        raise httpx.ConnectError(f"cannot resolve host {host!r}: {exc.strerror}") from exc
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def always_blocked(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Link-local or metadata, also as IPv4-mapped IPv6 (which connects over IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_link_local or any(address in net for net in ALWAYS_BLOCKED)


def check_destination(url: str, *, allow_private: bool = False) -> None:
    """Raise OutboundBlocked when url points somewhere the policy refuses.

    allow_private=True lets private and loopback addresses pass for operator-configured
    destinations; link-local and metadata addresses stay refused.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise OutboundBlocked(f"only http and https URLs are allowed, not {parts.scheme!r}")
    if not parts.hostname:
        raise OutboundBlocked(f"URL has no host: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for address in _addresses(parts.hostname, port):
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # ::ffff:a.b.c.d connects to a.b.c.d over IPv4
        if always_blocked(address):
            raise OutboundBlocked(
                f"refusing to connect to {parts.hostname} ({address}): link-local and "
                "metadata addresses are always blocked"
            )
        if not address.is_global and not (allow_private or settings.OUTBOUND_ALLOW_PRIVATE):
            raise OutboundBlocked(
                f"refusing to connect to {parts.hostname} ({address}): private/loopback "
                "address; set OUTBOUND_ALLOW_PRIVATE=1 to allow it"
            )


@cache
def tls_context() -> "ssl.SSLContext":
    """httpx's default certificate verification, built once: loading the CA bundle takes
    0.1-0.2 s, which a new context per request would add to every call outside its timeout."""
    import httpx

    return httpx.create_ssl_context()


def request(
    method: str,
    url: str,
    *,
    timeout: float | None = None,
    allow_private: bool = False,
    **kwargs: Any,
) -> "httpx.Response":
    """Send one request after the address check. Raises OutboundBlocked or httpx errors.

    allow_private: only for destinations from operator configuration (see check_destination).
    `timeout` bounds each network phase (connect, send, each read); what the address check
    and the client's set-up took is taken off it."""
    started = time.monotonic()
    import httpx

    check_destination(url, allow_private=allow_private)
    timeout_s = min(timeout or settings.OUTBOUND_TIMEOUT_S, settings.OUTBOUND_TIMEOUT_S * 6)
    with httpx.Client(
        timeout=httpx.Timeout(timeout_s), follow_redirects=False, verify=tls_context()
    ) as client:
        left = max(0.001, timeout_s - (time.monotonic() - started))
        return client.request(method, url, timeout=httpx.Timeout(left), **kwargs)
