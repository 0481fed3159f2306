"""The outbound address policy, without Django: which addresses a connection may go to.

Used by apps.common.http (every outbound request) and by the `network` check (which also runs
in the agent, where Django is not installed). Addresses that carry an IPv4 address inside an
IPv6 one are judged by the IPv4 address they reach: IPv4-mapped (::ffff:a.b.c.d), IPv4-
compatible (::a.b.c.d), NAT64 (64:ff9b::/96 and the local-use 64:ff9b:1::/48), 6to4
(2002:AABB:CCDD::/48) and Teredo (the client address).
"""

import ipaddress
import socket

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

ALWAYS_BLOCKED = [
    ipaddress.ip_network("169.254.0.0/16"),  # link-local, incl. 169.254.169.254 metadata
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fd00:ec2::/32"),  # AWS IMDS over IPv6
    ipaddress.ip_network("100.100.100.200/32"),  # Alibaba metadata
    ipaddress.ip_network("0.0.0.0/8"),
]
NAT64 = [ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48")]
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
PRIVATE_HINT = "set OUTBOUND_ALLOW_PRIVATE=1 to allow it"


def unwrap(address: Address) -> Address:
    """The IPv4 address an IPv6 address reaches through a translation, else the address."""
    if not isinstance(address, ipaddress.IPv6Address):
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if any(address in net for net in NAT64):
        return embedded
    if address in IPV4_COMPATIBLE and int(address) > 1:  # not :: nor ::1
        return embedded
    return address


def always_blocked(address: Address) -> bool:
    """Link-local or metadata, in any of the forms `unwrap` knows."""
    for form in {address, unwrap(address)}:
        if form.is_link_local or any(form in net for net in ALWAYS_BLOCKED):
            return True
    return False


def refusal(address: Address, *, allow_private: bool) -> str:
    """Why a connection to `address` is refused ("" when it may go ahead)."""
    if always_blocked(address):
        return "link-local and metadata addresses are always blocked"
    if not allow_private and not (address.is_global and unwrap(address).is_global):
        return f"private/loopback address; {PRIVATE_HINT}"
    return ""


def parse_address(text: str) -> Address | None:
    """An IP literal (brackets and a zone index allowed), else None."""
    try:
        return ipaddress.ip_address(text.strip("[]").split("%")[0])
    except ValueError:
        return None


def resolve(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to (once; callers connect to one of these).
    Raises OSError (socket.gaierror) when the name does not resolve."""
    literal = parse_address(host)
    if literal is not None:
        return [literal]
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(ipaddress.ip_address(str(i[4][0]).split("%")[0]) for i in infos))
