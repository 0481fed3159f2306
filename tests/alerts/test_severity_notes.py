"""QA pass on issue 15: a severity word no table knows falls back to warning *and* says so in
parse_notes, for every vendor (one shared helper, fields.severity_noted)."""

import copy

import pytest

from apps.alerts import vendors
from tests.conftest import load_payload


def grafana_unified(severity):
    body = copy.deepcopy(load_payload("grafana/unified_firing.json"))
    for alert in body["alerts"]:
        alert["labels"]["severity"] = severity
    return body


def opsgenie(priority):
    body = copy.deepcopy(load_payload("opsgenie/create.json"))
    body["alert"]["priority"] = priority
    return body


def newrelic_classic(severity):
    return load_payload("newrelic/classic_incident_open_full.json") | {"severity": severity}


CASES = [
    ("generic", {"name": "SevProbe", "severity": "bananas"}, "unknown severity 'bananas': warning"),
    ("generic", {"name": "SevProbe", "level": "bananas"}, "unknown level 'bananas': warning"),
    ("grafana", grafana_unified("bananas"), "unknown severity label 'bananas': warning"),
    ("alertmanager", {"alerts": [{"labels": {"alertname": "X", "severity": "bananas"}}],
                      "version": "4"}, "unknown severity label 'bananas': warning"),
    ("datadog", {"alert_title": "CPU", "alert_transition": "Triggered",
                 "alert_priority": "bananas"}, "unknown alert_priority 'bananas': warning"),
    ("zabbix", {"trigger_name": "Disk", "trigger_severity": "Supercritical"},
     "unknown trigger_severity 'Supercritical': warning"),
    ("opsgenie", opsgenie("bananas"), "unknown alert.priority 'bananas': warning"),
    ("newrelic", newrelic_classic("bananas"), "unknown severity 'bananas': warning"),
]  # fmt: skip


@pytest.mark.parametrize(("vendor", "body", "note"), CASES, ids=[c[0] for c in CASES])
def test_an_unknown_severity_word_is_warning_and_noted(vendor, body, note):
    alerts = vendors.parse(body, vendor)
    for alert in alerts:
        assert alert.severity == "warning"
        assert note in alert.parse_notes


def test_a_known_severity_word_adds_no_severity_note():
    (alert,) = vendors.parse({"name": "SevProbe", "severity": "Disaster"}, "generic")
    assert alert.severity == "critical"
    assert not any("severity" in note for note in alert.parse_notes)
