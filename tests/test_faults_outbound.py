"""Fault injection for the one outbound gate: translated IPv6 forms, DNS rebinding, and the
`network` check under the same policy. Decisions are checked; nothing connects beyond loopback."""

import socket

import pytest

from apps.checkers.checks import network
from apps.common import http, netpolicy
from apps.common.http import OutboundBlocked, check_destination, request

# 169.254.169.254 = a9fe:a9fe, 127.0.0.1 = 7f00:1
METADATA_FORMS = [
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[64:ff9b::169.254.169.254]/",
    "http://[64:ff9b:1::a9fe:a9fe]/",
    "http://[2002:a9fe:a9fe::1]/",
    "http://[::169.254.169.254]/",
    "http://[2001:0:4136:e378:8000:63bf:5601:5601]/",  # Teredo, client 169.254.169.254 (xor)
]
LOOPBACK_FORMS = [
    "http://[::ffff:127.0.0.1]:9/",
    "http://[64:ff9b::7f00:1]:9/",
    "http://[2002:7f00:1::]:9/",
    "http://[::127.0.0.1]:9/",
    "http://[::ffff:10.0.0.1]/",
]


@pytest.mark.parametrize("url", METADATA_FORMS)
def test_metadata_behind_every_ipv6_translation_is_always_refused(settings, url):
    settings.OUTBOUND_ALLOW_PRIVATE = True
    with pytest.raises(OutboundBlocked, match="always blocked"):
        check_destination(url)
    with pytest.raises(OutboundBlocked, match="always blocked"):
        check_destination(url, allow_private=True)


@pytest.mark.parametrize("url", LOOPBACK_FORMS)
def test_loopback_and_private_behind_translations_are_private(settings, url):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    with pytest.raises(OutboundBlocked, match="OUTBOUND_ALLOW_PRIVATE=1"):
        check_destination(url)


def test_a_mapped_loopback_literal_sends_nothing(settings, http_sink):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    port = http_sink.url.rsplit(":", 1)[1]
    with pytest.raises(OutboundBlocked):
        request("GET", f"http://[::ffff:127.0.0.1]:{port}/")
    assert http_sink.requests == []


def test_public_translated_addresses_pass(settings):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    for url in ("http://[::ffff:8.8.8.8]/", "http://[64:ff9b::8.8.8.8]/", "http://8.8.8.8/"):
        assert check_destination(url).address is not None  # decided only: no request is sent


class RebindingResolver:
    """A name whose first answer is the checked loopback sink and every later answer another
    address: the DNS rebinding a second resolution would follow."""

    def __init__(self, monkeypatch, name: str, first: str, later: str):
        self.name, self.first, self.later, self.asked = name, first, later, 0
        self.real = socket.getaddrinfo
        monkeypatch.setattr(socket, "getaddrinfo", self)

    def __call__(self, host, port, *args, **kwargs):
        if host != self.name:
            return self.real(host, port, *args, **kwargs)
        self.asked += 1
        address = self.first if self.asked == 1 else self.later
        return self.real(address, port, *args, **kwargs)


def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch, http_sink):
    port = int(http_sink.url.rsplit(":", 1)[1])
    resolver = RebindingResolver(monkeypatch, "rebind.test", "127.0.0.1", "127.0.0.2")
    http_sink.respond(204)
    response = request("POST", f"http://rebind.test:{port}/hook", json={}, allow_private=True)
    assert response.status_code == 204
    assert resolver.asked == 1
    assert http_sink.requests[0].headers["Host"] == f"rebind.test:{port}"


def test_tls_still_names_the_host():
    destination = http.Destination(
        url="https://hooks.example.com/x",
        host="hooks.example.com",
        address=netpolicy.resolve("127.0.0.1", 443)[0],
    )
    target, headers, extensions = http.pinned(destination)
    assert target == "https://127.0.0.1/x"
    assert headers == {"Host": "hooks.example.com"}
    assert extensions == {"sni_hostname": "hooks.example.com"}


def test_network_check_refuses_private_targets_from_a_definition(settings, http_sink):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    settings.CHECK_NETWORK_TARGETS = []
    target = http_sink.url.removeprefix("http://")
    readings = network.NetworkCheck(targets=[target]).measure()["targets"][target]
    assert readings["reachable"] is False
    assert "OUTBOUND_ALLOW_PRIVATE=1" in readings["error"]


def test_network_check_allows_the_operators_own_targets(settings, http_sink):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    target = http_sink.url.removeprefix("http://")
    settings.CHECK_NETWORK_TARGETS = [target]
    readings = network.NetworkCheck(targets=[target]).measure()["targets"][target]
    assert readings["reachable"] is True


@pytest.mark.parametrize(
    "host", ["::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "169.254.169.254"]
)
def test_network_probe_never_connects_to_metadata(host):
    found = network.probe(host, 80, 0.5, allow_private=True)
    assert found["reachable"] is False
    assert "always blocked" in found["error"]


def test_command_line_targets_are_the_operators(db, settings, http_sink):
    from apps.checkers.services import run_checks

    settings.OUTBOUND_ALLOW_PRIVATE = False
    settings.CHECK_NETWORK_TARGETS = []
    target = http_sink.url.removeprefix("http://")
    options = {"network": {"targets": [target]}}
    from_definition = run_checks(include=["network"], options=options)
    from_operator = run_checks(include=["network"], options=options, operator=True)
    assert from_definition["checks"]["network"]["metrics"]["reachable"] == 0
    assert from_operator["checks"]["network"]["metrics"]["reachable"] == 1
