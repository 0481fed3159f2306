"""The one outbound HTTP client: timeouts on every call and the private-address policy.

No other module opens sockets to user-given URLs. The destination is resolved once, every
address is checked (apps.common.netpolicy: link-local and cloud metadata addresses are always
refused, also inside IPv4-mapped, NAT64, 6to4 and Teredo IPv6 forms; private, loopback and other
non-global addresses only pass with OUTBOUND_ALLOW_PRIVATE=1, or with allow_private=True for
destinations the operator configured (PROMETHEUS_URL), never for URLs taken from alerts or API
callers), and the connection goes to the address that was checked: the request keeps the name
in its Host header and as the TLS server name (SNI and certificate check), so a DNS answer that
changes between check and connect (rebinding) cannot reach another address.
"""

import time
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings

from apps.common import netpolicy
from apps.common.netpolicy import ALWAYS_BLOCKED, always_blocked  # noqa: F401 -- re-exported

if TYPE_CHECKING:
    import ssl

    import httpx  # imported on first request: it costs ~50 ms at start-up


class OutboundBlocked(Exception):
    """The destination is refused by the outbound address policy."""


@dataclass(frozen=True)
class Destination:
    """A checked URL: where to connect (`address`) and the name the server knows (`host`)."""

    url: str
    host: str
    address: netpolicy.Address


def check_destination(url: str, *, allow_private: bool = False) -> Destination:
    """Resolve url's host once and raise OutboundBlocked when any of its addresses is refused;
    return the address to connect to.

    allow_private=True lets private and loopback addresses pass for operator-configured
    destinations; link-local and metadata addresses stay refused.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise OutboundBlocked(f"only http and https URLs are allowed, not {parts.scheme!r}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise OutboundBlocked(f"URL has an invalid port: {url[:200]!r}") from None
    if not host:
        raise OutboundBlocked(f"URL has no host: {url[:200]!r}")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = netpolicy.resolve(host, port)
    except (OSError, UnicodeError) as exc:
        import httpx

        reason = getattr(exc, "strerror", None) or exc
        raise httpx.ConnectError(f"cannot resolve host {host!r}: {reason}") from exc
    private_ok = allow_private or settings.OUTBOUND_ALLOW_PRIVATE
    for address in addresses:
        if reason := netpolicy.refusal(address, allow_private=private_ok):
            shown = netpolicy.unwrap(address)
            raise OutboundBlocked(f"refusing to connect to {host} ({shown}): {reason}")
    if not addresses:
        raise OutboundBlocked(f"{host} resolves to no address")
    return Destination(url=url, host=host, address=addresses[0])


def pinned(destination: Destination) -> tuple[str, dict[str, str], dict[str, Any]]:
    """(URL with the checked address as host, Host header, request extensions): the request
    goes to that address while HTTP and TLS still name the host."""
    import httpx

    original = httpx.URL(destination.url)
    literal = netpolicy.parse_address(destination.host)
    if literal is not None:  # already an address: nothing to pin
        return destination.url, {}, {}
    target = str(original.copy_with(host=str(destination.address)))
    host_header = original.netloc.decode("ascii").rpartition("@")[2]
    extensions = {"sni_hostname": destination.host} if original.scheme == "https" else {}
    return target, {"Host": host_header}, extensions


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

    destination = check_destination(url, allow_private=allow_private)
    target, host_header, extensions = pinned(destination)
    headers = {**dict(kwargs.pop("headers", None) or {}), **host_header}
    timeout_s = min(timeout or settings.OUTBOUND_TIMEOUT_S, settings.OUTBOUND_TIMEOUT_S * 6)
    with httpx.Client(
        timeout=httpx.Timeout(timeout_s),
        follow_redirects=False,
        verify=tls_context(),
        trust_env=False,  # a proxy would connect on its own, to an address never checked
    ) as client:
        left = max(0.001, timeout_s - (time.monotonic() - started))
        return client.request(
            method,
            target,
            headers=headers,
            extensions=extensions,
            timeout=httpx.Timeout(left),
            **kwargs,
        )
