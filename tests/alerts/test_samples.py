"""Samples: one real-shaped firing payload per vendor, read back by that vendor's parser."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from apps.alerts import vendors
from apps.alerts.samples import SAMPLE_SOURCES, sample_payload


def test_every_vendor_and_cli_has_a_sample():
    assert set(SAMPLE_SOURCES) == set(vendors.vendor_names()) | {"cli"}


@pytest.mark.parametrize("source", SAMPLE_SOURCES)
def test_sample_is_detected_as_its_vendor_and_parses(source):
    payload = sample_payload(source)
    vendor = "generic" if source == "cli" else source
    assert json.loads(json.dumps(payload)) == payload  # a JSON body, as sent over HTTP
    assert vendors.detect(payload) == vendor
    alerts = vendors.parse(payload, vendor)
    assert len(alerts) >= 1
    for alert in alerts:
        assert alert.status == "firing" and alert.action == ""
        assert alert.severity == "critical"
        assert alert.source == vendor
        assert alert.started_at is not None
        assert datetime.now(UTC) - alert.started_at < timedelta(minutes=10)
        assert "web-01" in (alert.host + alert.name + alert.description)
        if vendor != "pagerduty":  # PagerDuty incidents have no host field
            assert alert.host == "web-01"


@pytest.mark.parametrize("source", SAMPLE_SOURCES)
def test_samples_are_fresh_copies_with_stable_identity(source):
    first = sample_payload(source)
    vendor = vendors.detect(first)
    print_one = vendors.parse(first, vendor)[0].fingerprint
    json.dumps(first)
    first.clear()
    again = sample_payload(source, now=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert again
    assert vendors.parse(again, vendor)[0].fingerprint == print_one


def test_sample_times_follow_now():
    now = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    alert = vendors.parse(sample_payload("alertmanager", now=now), "alertmanager")[0]
    assert alert.started_at == now - timedelta(minutes=5)


@pytest.mark.parametrize("source", ["nagios", "", "CLI"])
def test_unknown_source_is_a_clear_error(source):
    with pytest.raises(ValueError, match=r"no sample for source .* \(choose from: alertmanager, "):
        sample_payload(source)
