"""Times, severities, statuses and the generic format, table-driven."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from apps.alerts import vendors
from apps.alerts.vendors import PayloadError
from apps.alerts.vendors.base import normalize_severity, parse_time

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"


def load(relative: str):
    return json.loads((PAYLOADS / relative).read_text())


def utc(*parts: int) -> datetime:
    return datetime(*parts).replace(tzinfo=UTC)  # type: ignore[arg-type]


# fmt: off
TIMES = [
    ("2018-11-04T22:43:58.283995108+01:00", utc(2018, 11, 4, 21, 43, 58, 283995)),
    ("2018-03-07T06:33:21.873077559-05:00", utc(2018, 3, 7, 11, 33, 21, 873077)),
    ("2020-02-06T00:17:58.432911368Z", utc(2020, 2, 6, 0, 17, 58, 432911)),
    ("2021-06-04T13:55:30.394Z", utc(2021, 6, 4, 13, 55, 30, 394000)),
    ("2017-09-26T15:18:09+00:00", utc(2017, 9, 26, 15, 18, 9)),
    ("2017-09-26 15:18:09", utc(2017, 9, 26, 15, 18, 9)),  # naive means UTC
    ("2017-09-26", utc(2017, 9, 26)),
    ("0001-01-01T00:00:00Z", None),  # Alertmanager's zero time
    (1499368214, utc(2017, 7, 6, 19, 10, 14)),  # epoch s
    (1499368214.5, utc(2017, 7, 6, 19, 10, 14, 500000)),
    ("1733930853000", utc(2024, 12, 11, 15, 27, 33)),  # epoch ms as text
    (1605133931151, utc(2020, 11, 11, 22, 32, 11, 151000)),  # epoch ms
    (1420452374669001603, utc(2015, 1, 5, 10, 6, 14, 669002)),  # epoch ns
    (1420452374669001, utc(2015, 1, 5, 10, 6, 14, 669001)),  # epoch µs
    ("null", None),
    ("", None),
    (None, None),
    (0, None),
]
# fmt: on


@pytest.mark.parametrize(("value", "expected"), TIMES)
def test_parse_time(value, expected):
    result = parse_time(value, "t")
    assert result == expected
    if result is not None:
        assert result.tzinfo is not None and result.utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("yesterday", "t: cannot read time 'yesterday'"),
        ("2020-13-45T00:00:00Z", "t: cannot read time"),
        (10**30, "t: epoch time"),
        ({"at": 1}, "t: expected a time, got object"),
        ([1], "t: expected a time, got array"),
    ],
)
def test_parse_time_refuses(value, message):
    with pytest.raises(PayloadError, match=message.replace("(", r"\(")):
        parse_time(value, "t")


# fmt: off
SEVERITIES = [
    # vendor words -> severity, through the shared table
    ("critical", "critical"), ("CRITICAL", "critical"), ("crit", "critical"),
    ("Disaster", "critical"), ("High", "critical"), ("P1", "critical"), ("p2", "critical"),
    ("page", "critical"), ("major", "critical"), ("error", "critical"), ("fatal", "critical"),
    ("warning", "warning"), ("WARN", "warning"), ("Average", "warning"), ("MEDIUM", "warning"),
    ("minor", "warning"), ("P3", "warning"), (3, "warning"),
    ("info", "info"), ("Information", "info"), ("Not classified", "info"), ("LOW", "info"),
    ("P4", "info"), ("P5", "info"), ("success", "info"), ("ok", "info"), ("debug", "info"),
    # unknown or missing -> the default
    ("", "warning"), (None, "warning"), ("purple", "warning"), ({"a": 1}, "warning"),
]
# fmt: on


@pytest.mark.parametrize(("word", "expected"), SEVERITIES)
def test_normalize_severity(word, expected):
    assert normalize_severity(word) == expected


def first(payload, vendor):
    return vendors.parse(payload, vendor)[0]


ZBX = load("zabbix/problem_average.json")
OG = load("opsgenie/create.json")
NRW = load("newrelic/workflow_issue_created_default.json")
PD3 = load("pagerduty/v3_incident_triggered.json")
DD = load("datadog/log_alert_triggered.json")


def with_data(payload, **data):
    changed = json.loads(json.dumps(payload))
    changed["event"]["data"].update(data)
    return changed


# fmt: off
VENDOR_SEVERITIES = [
    ("zabbix", ZBX | {"severity": "Disaster"}, "critical"),
    ("zabbix", ZBX | {"severity": "High"}, "critical"),
    ("zabbix", ZBX | {"severity": "Average"}, "warning"),
    ("zabbix", ZBX | {"severity": "Warning"}, "warning"),
    ("zabbix", ZBX | {"severity": "Information"}, "info"),
    ("zabbix", ZBX | {"severity": "Not classified"}, "info"),
    ("opsgenie", OG | {"alert": OG["alert"] | {"priority": "P1"}}, "critical"),
    ("opsgenie", OG | {"alert": OG["alert"] | {"priority": "P2"}}, "critical"),
    ("opsgenie", OG | {"alert": OG["alert"] | {"priority": 3}}, "warning"),
    ("opsgenie", OG | {"alert": OG["alert"] | {"priority": "P4"}}, "info"),
    ("opsgenie", OG | {"alert": OG["alert"] | {"priority": "P5"}}, "info"),
    ("newrelic", NRW | {"priority": "CRITICAL"}, "critical"),
    ("newrelic", NRW | {"priority": "HIGH"}, "warning"),
    ("newrelic", NRW | {"priority": "MEDIUM"}, "warning"),
    ("newrelic", NRW | {"priority": "LOW"}, "info"),
    ("pagerduty", with_data(PD3, urgency="high"), "critical"),
    ("pagerduty", with_data(PD3, urgency="low"), "warning"),
    ("pagerduty", with_data(PD3, urgency="low", priority={"summary": "P1"}), "critical"),
    ("pagerduty", with_data(PD3, urgency="high", priority={"summary": "P4"}), "info"),
    ("datadog", DD | {"severity": "P1"}, "critical"),
    ("datadog", DD | {"severity": "P3"}, "warning"),
    ("datadog", DD | {"severity": "P5"}, "info"),
    ("datadog", DD | {"severity": "", "alert_type": "warning", "alert_transition": "Warn"}, "warning"),
    ("datadog", DD | {"severity": "P1", "alert_transition": "Warn"}, "warning"),
    ("datadog", DD | {"severity": "", "alert_type": "error"}, "critical"),
]
# fmt: on


@pytest.mark.parametrize(("vendor", "payload", "expected"), VENDOR_SEVERITIES)
def test_vendor_severity_vocabularies(vendor, payload, expected):
    assert first(payload, vendor).severity == expected


# fmt: off
VENDOR_STATES = [
    ("datadog", DD | {"alert_transition": "Re-Triggered"}, "firing", ""),
    ("datadog", DD | {"alert_transition": "No Data"}, "firing", ""),
    ("datadog", DD | {"alert_transition": "Recovered"}, "resolved", ""),
    ("datadog", DD | {"alert_transition": "", "alert_type": "success"}, "resolved", ""),
    ("opsgenie", OG | {"action": "Acknowledge"}, "firing", "acknowledge"),
    ("opsgenie", OG | {"action": "UnAcknowledge"}, "firing", "unacknowledge"),
    ("opsgenie", OG | {"action": "AddNote"}, "firing", "addnote"),
    ("opsgenie", OG | {"action": "Close"}, "resolved", ""),
    ("opsgenie", OG | {"action": "Delete"}, "resolved", ""),
    ("newrelic", NRW | {"state": "ACTIVATED"}, "firing", ""),
    ("newrelic", NRW | {"state": "ACKNOWLEDGED"}, "firing", "acknowledge"),
    ("newrelic", NRW | {"state": "CLOSED"}, "resolved", ""),
    ("newrelic", load("newrelic/classic_incident_closed.json") | {"current_state": "acknowledged"},
     "firing", "acknowledge"),
    ("zabbix", ZBX | {"status": "RESOLVED"}, "resolved", ""),
    ("pagerduty", PD3 | {"event": PD3["event"] | {"event_type": "incident.reopened"}}, "firing", ""),
    ("pagerduty", PD3 | {"event": PD3["event"] | {"event_type": "incident.escalated"}}, "firing",
     "escalate"),
    ("pagerduty", with_data(PD3 | {"event": PD3["event"] | {"event_type": "incident.priority_updated"}},
                            status="resolved"), "resolved", "priority_updated"),
    ("grafana", load("grafana/legacy_ok.json") | {"state": "no_data"}, "firing", ""),
    ("grafana", load("grafana/legacy_ok.json") | {"state": "paused"}, "resolved", ""),
]
# fmt: on


@pytest.mark.parametrize(("vendor", "payload", "status", "action"), VENDOR_STATES)
def test_vendor_states_and_actions(vendor, payload, status, action):
    alert = first(payload, vendor)
    assert (alert.status, alert.action) == (status, action)


def test_pagerduty_annotation_event_refers_to_its_incident():
    payload = {
        "event": {
            "id": "01DA2MLYN0J5EFC1LKWXUKDDKT",
            "event_type": "incident.annotated",
            "resource_type": "incident",
            "occurred_at": "2020-10-02T18:45:22.169Z",
            "data": {
                "incident": {
                    "html_url": "https://example.pagerduty.com/incidents/PGR0VU2",
                    "id": "PGR0VU2",
                    "summary": "Disk full on web-01",
                    "type": "incident_reference",
                },
                "content": "Cleared /var/log.",
                "trimmed": False,
                "type": "incident_note",
            },
        }
    }
    alert = first(payload, "pagerduty")
    assert (alert.fingerprint, alert.name, alert.action) == (
        "PGR0VU2",
        "Disk full on web-01",
        "annotate",
    )
    assert alert.description == "Cleared /var/log."


def test_grafana_legacy_severity_comes_from_rule_tags():
    payload = load("grafana/legacy_alerting_evalmatches.json") | {"tags": {"severity": "critical"}}
    alert = first(payload, "grafana")
    assert alert.severity == "critical" and alert.labels == {"severity": "critical"}


def test_zabbix_without_link_fingerprints_trigger_and_host():
    no_link = {key: value for key, value in ZBX.items() if key != "link"}
    alert = first(no_link, "zabbix")
    assert alert.fingerprint_fields == ["trigger", "hostname"]
    assert alert.fingerprint != first(no_link | {"hostname": "web-02"}, "zabbix").fingerprint


def test_datadog_host_tag_becomes_host():
    alert = first(
        DD | {"scopes": "host:web-01,service:api", "tags": "env:prod,host:web-01"}, "datadog"
    )
    assert alert.host == "web-01"
    assert alert.labels == {"env": "prod", "host": "web-01", "service": "api"}


def test_alertmanager_fingerprint_hash_follows_labels_only():
    payload = load("alertmanager/v4_firing_am015_endsat_set.json")
    base = first(payload, "alertmanager").fingerprint
    payload["alerts"][0]["annotations"]["message"] = "changed text"
    assert first(payload, "alertmanager").fingerprint == base
    payload["alerts"][0]["labels"]["instance"] = "web-02"
    assert first(payload, "alertmanager").fingerprint != base


# --- the generic format ---------------------------------------------------------------------

# fmt: off
GENERIC_CASES = [
    # (payload, expected fields of the first alert)
    ({"name": "Disk full", "status": "firing", "host": "web-01"},
     {"name": "Disk full", "status": "firing", "severity": "warning", "host": "web-01",
      "fingerprint_fields": ["name", "host"]}),
    ({"title": "Disk full", "severity": "P1"}, {"name": "Disk full", "status": "firing", "severity": "critical"}),
    ({"name": "Disk full", "status": "ok"}, {"status": "resolved"}),
    ({"name": "Disk full", "status": "closed"}, {"status": "resolved"}),
    ({"name": "Disk full", "status": "RESOLVED", "ended_at": 1700000000},
     {"status": "resolved", "ended_at": utc(2023, 11, 14, 22, 13, 20)}),
    ({"name": "Disk full", "status": "open"}, {"status": "firing"}),
    ({"name": "Disk full", "status": "problem"}, {"status": "firing"}),
    ({"name": "Disk full", "status": "acknowledged"}, {"status": "firing", "action": "acknowledge"}),
    ({"name": "Disk full", "status": "firing", "ended_at": "2024-01-01T00:00:00Z"}, {"ended_at": None}),
    ({"name": "Disk full", "host": "h", "started_at": "2024-05-01T10:00:00+02:00"},
     {"started_at": utc(2024, 5, 1, 8)}),
    ({"name": "Disk full", "host": "h", "started_at": 1714550400},
     {"started_at": utc(2024, 5, 1, 8)}),
    ({"name": "Disk full", "host": "h", "fingerprint": "disk-/var"},
     {"fingerprint": "disk-/var", "fingerprint_fields": ["fingerprint"]}),
    ({"name": "Disk full", "host": "h", "fingerprint": 42}, {"fingerprint": "42"}),
    ({"name": "Disk full", "host": "h", "labels": {"mount": "/var", "size": 100}},
     {"labels": {"mount": "/var", "size": "100"}, "fingerprint_fields": ["name", "host", "labels"]}),
    ({"name": "Диск заполнен 🚨", "host": "сервер-1", "description": "ü"},
     {"name": "Диск заполнен 🚨", "host": "сервер-1", "description": "ü"}),
    ({"name": "Disk full", "host": "h", "url": "https://x.example.com/a", "annotations": {"n": 1}},
     {"url": "https://x.example.com/a", "annotations": {"n": 1}}),
]
# fmt: on


@pytest.mark.parametrize(("payload", "expected"), GENERIC_CASES)
def test_generic_format(payload, expected):
    assert vendors.detect(payload) == "generic"
    alert = first(payload, "generic")
    assert alert.source == "generic"
    for key, value in expected.items():
        assert getattr(alert, key) == value, key


@pytest.mark.parametrize("fingerprint", [{"id": 1}, ["disk", "/var"], True])
def test_generic_fingerprint_must_be_a_scalar(fingerprint):
    payload = {"name": "Disk full", "host": "h", "fingerprint": fingerprint}
    with pytest.raises(PayloadError, match="alert.fingerprint must be a string or a number"):
        vendors.parse(payload, "generic")


def test_generic_long_name_is_kept_whole_by_the_parser():
    assert first({"name": "n" * 5000, "status": "firing"}, "generic").name == "n" * 5000


def test_generic_list_under_alerts():
    payload = {
        "alerts": [
            {"name": "Disk full", "status": "firing", "host": "web-01"},
            {"title": "Load high", "status": "resolved", "host": "web-02", "severity": "info"},
        ]
    }
    alerts = vendors.parse(payload, vendors.detect(payload))
    assert [(a.name, a.status, a.host, a.severity) for a in alerts] == [
        ("Disk full", "firing", "web-01", "warning"),
        ("Load high", "resolved", "web-02", "info"),
    ]
    assert alerts[0].fingerprint != alerts[1].fingerprint


def test_generic_fingerprint_is_stable_and_host_specific():
    one = first({"name": "Disk full", "host": "web-01", "labels": {"b": "2", "a": "1"}}, "generic")
    same = first(
        {
            "name": "Disk full",
            "host": "web-01",
            "labels": {"a": "1", "b": "2"},
            "description": "other text",
            "status": "firing",
        },
        "generic",
    )
    other = first(
        {"name": "Disk full", "host": "web-02", "labels": {"a": "1", "b": "2"}}, "generic"
    )
    assert one.fingerprint == same.fingerprint != other.fingerprint


def test_riemann_state_gives_severity():
    event = load("generic/riemann_event_ok.json") | {"state": "critical", "time": 1499368214}
    alert = first(event, "generic")
    assert (alert.status, alert.severity) == ("firing", "critical")
    assert alert.started_at == utc(2017, 7, 6, 19, 10, 14)
