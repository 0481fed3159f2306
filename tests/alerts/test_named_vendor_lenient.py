"""QA pass on issue 15: a vendor named in the URL reads the body with its lenient parser,
even when its detector does not recognise it; what it truly cannot read is a one-line 400."""

import json

import pytest

from apps.alerts.models import Alert

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def runs_off(settings):
    settings.INGEST_START_RUNS = False


def post(client, path, body, key):
    return client.post(
        path, data=json.dumps(body), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )  # fmt: skip


NAMED_BODIES = [
    # (path, body, expected name, status, severity, host)
    ("zabbix", {"trigger": "Disk full", "host": "web-01", "severity": "Disaster",
                "status": "PROBLEM"}, "Disk full", "firing", "critical", "web-01"),
    ("zabbix", {"name": "Disk full", "hostname": "web-02", "severity": "High",
                "status": "PROBLEM"}, "Disk full", "firing", "critical", "web-02"),
    ("datadog", {"title": "CPU high", "id": "4242", "alert_type": "error", "host": "web-03"},
     "CPU high", "firing", "critical", "web-03"),
    # IncidentRelay's documented Zabbix body: firing/resolved, not PROBLEM/OK
    ("zabbix", {"trigger_name": "Disk full", "host_name": "web-04", "status": "firing"},
     "Disk full", "firing", "warning", "web-04"),
    ("zabbix", {"trigger_name": "Disk full", "host_name": "web-04", "status": "resolved"},
     "Disk full", "resolved", "warning", "web-04"),
    # Aliyun's Datadog template
    ("datadog", {"alert_name": "Load high", "status": "Triggered", "host": "web-05"},
     "Load high", "firing", "warning", "web-05"),
]  # fmt: skip


@pytest.mark.parametrize(("vendor", "body", "name", "status", "severity", "host"), NAMED_BODIES)
def test_named_vendor_reads_a_body_its_detector_does_not_claim(
    client, ingest_key, vendor, body, name, status, severity, host
):
    response = post(client, f"/api/alerts/{vendor}/", body, ingest_key)
    assert response.status_code == 202, response.content
    alert = Alert.objects.get()
    assert (alert.source, alert.name, alert.status, alert.severity, alert.host) == (
        vendor, name, status, severity, host,
    )  # fmt: skip


def test_reading_an_unmarked_body_as_the_named_vendor_is_noted(client, ingest_key):
    body = {"trigger": "Disk full", "host": "web-01", "severity": "Disaster", "status": "PROBLEM"}
    assert post(client, "/api/alerts/zabbix/", body, ingest_key).status_code == 202
    notes = Alert.objects.get().annotations["parse_notes"]
    assert notes[0] == "read as zabbix because the URL names it (the body has no zabbix mark)"


@pytest.mark.parametrize(
    ("vendor", "body", "message"),
    [
        ("zabbix", {"hello": "world"},
         "zabbix payload has no trigger name (trigger_name, trigger or name)"),
        ("datadog", {"name": "x", "severity": "high"},
         "datadog payload has no 'title' (or 'alert_title') (it looks like generic)"),
        ("generic", {"alerts": []}, "the body has no alerts ('alerts' is an empty list)"),
    ],
)  # fmt: skip
def test_what_the_named_vendor_cannot_read_is_a_one_line_400(
    client, ingest_key, vendor, body, message
):
    response = post(client, f"/api/alerts/{vendor}/", body, ingest_key)
    assert response.status_code == 400
    assert response.json()["message"] == message
    assert Alert.objects.count() == 0


def test_auto_detect_says_an_empty_alerts_list_has_no_alerts(client, ingest_key):
    response = post(client, "/api/alerts/", {"alerts": []}, ingest_key)
    assert response.status_code == 400
    assert response.json()["message"] == "the body has no alerts ('alerts' is an empty list)"


def test_a_body_another_specific_vendor_claims_is_still_refused_unread(client, ingest_key):
    body = {"trigger_name": "Disk full", "host_name": "web-01", "event_value": "1"}
    response = post(client, "/api/alerts/datadog/", body, ingest_key)
    assert response.status_code == 400
    assert response.json()["message"] == "payload is not a datadog payload (it looks like zabbix)"
