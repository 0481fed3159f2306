"""The one outbound HTTP client refuses private, loopback and metadata addresses."""

import pytest

from apps.common.http import OutboundBlocked, check_destination, request


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://localhost/",
        "http://10.1.2.3/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://[::1]/",
        "http://[fd12::1]/",
    ],
)
def test_private_and_loopback_refused_by_default(settings, url):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    with pytest.raises(OutboundBlocked) as exc:
        check_destination(url)
    assert "set OUTBOUND_ALLOW_PRIVATE=1 to allow it" in str(exc.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://[fd00:ec2::254]/",
        "http://0.0.0.0/",
    ],
)
def test_link_local_and_metadata_always_refused(settings, url):
    settings.OUTBOUND_ALLOW_PRIVATE = True
    with pytest.raises(OutboundBlocked, match="always blocked"):
        check_destination(url)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "gopher://x/", "ftp://example.com/", "http:///x"]
)
def test_other_schemes_and_hostless_urls_refused(settings, url):
    with pytest.raises(OutboundBlocked):
        check_destination(url)


def test_allowed_when_configured_and_request_goes_through(http_sink):
    http_sink.respond(204)
    response = request("POST", f"{http_sink.url}/hook", json={"a": 1})
    assert response.status_code == 204
    assert http_sink.requests[0].json() == {"a": 1}


def test_refused_request_sends_nothing(settings, http_sink):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    with pytest.raises(OutboundBlocked):
        request("POST", f"{http_sink.url}/hook", json={})
    assert http_sink.requests == []
