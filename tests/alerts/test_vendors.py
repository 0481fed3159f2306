"""Every shared fixture, parsed by its vendor, against the normalised alerts it must give."""

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from apps.alerts import vendors

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"
RECEIVED = "received"  # vendors with no timestamp: the receive time
HASHED = re.compile(r"^[0-9a-f]{32}$")


def load(relative: str):
    return json.loads((PAYLOADS / relative).read_text())


@dataclass
class Want:
    name: str
    status: str
    severity: str
    started: str | None
    ended: str | None
    host: str
    description: str  # the description starts with this
    labels: dict
    fingerprint: str | None  # the vendor's id; None: a hash of fingerprint_fields
    fields: list
    action: str = ""
    url: str = ""
    annotations: dict = field(default_factory=dict)  # a subset


# fmt: off
CPU_URL = (
    "http://prometheus.example.com:9090/graph?g0.expr=avg+by%28host%29+%28sensors_temp_input"
    "%7Bfeature%3D~%22core_%5B0-9%5D%2B%22%7D%29+%3E+15&g0.tab=1"
)
CPU = {"alertname": "High CPU Temperature", "host": "web-01", "severity": "critical"}
FIRE = {"alertname": "Fire", "severity": "critical"}
PROMSTACK = {
    "alertname": "JustATestAlert_1",
    "namespace": "whatever/promstack",
    "severity": "info",
    "name_space": "wh_ate_ver/promstack",  # from commonLabels, the group's defaults
}
LOREM = "Lorem ipsum dolor sit amet"
GF_TEST = {"alertname": "Test alert", "test": "true"}
GF_VIEW = "https://grafana.example.com/alerting/grafana/zTjxv_C7k/view"
RABBIT = {"alertname": "Test alert", "deploy": "prod", "job": "rabbitmq", "test": "true"}
LEGACY_TAGS = {
    "__name__": "netdata_cpu_cpu_percentage_average",
    "chart": "cpu.cpu0",
    "dimension": "user",
    "family": "utilization",
    "instance": "web-01.example.com",
    "job": "monitoring",
    "info.host_id": "i-0123456789abcdef0",
}
LEGACY_URL = "https://grafana.example.com/dashboard/db/alarms?fullscreen&edit&tab=alert&panelId=1&orgId=1"
PD_V3 = {"service": "example-service"}
PD_XDB = {"service": "Production XDB Cluster", "incident_number": "33"}
PD_V1 = {"service": "service", "incident_number": "1", "incident_key": "web-01/HTTP"}
DD_FIELDS = ["monitor_id", "scopes"]
DD_API = {"environment": "production", "monitor": "", "service": "keep-api"}
NR_STORAGE = {
    "priority": "HIGH",
    "condition": "Storage on Host Exceeded Threshold",
    "policy": "Golden Signals",
}
NR_CPU = {
    "priority": "CRITICAL",
    "condition": "High CPU",
    "policy": "Golden Signals",
    "workflow": "DBA Team workflow",
}
NR_STORAGE_TITLE = "WEB-01-UBUNTU query result is > 1.0 for 5 minutes"
OG_ID = "052652ac-5d1c-464a-812a-7dd18bbfba8c"
ZBX_UNREACHABLE = "Zabbix agent on www.example.com is unreachable for 5 minutes"
ZBX_LINK = "https://zabbix.example.com/tr_events.php?triggerid=14032&eventid="
GCP_ID = "f2e08c333dc64cb09f75eaab355393bz"
GCP_LABELS = {"policy_name": "Webserver Health", "condition_name": "CPU usage", "resource_id": "i-4a266a2d"}
GCP_SUMMARY = "CPU (agent) for webserver-85 is above the threshold of 1% with a value of 28.5%"

EXPECTED: dict[str, list[Want]] = {
    "alertmanager/v4_firing_two_alerts.json": [
        Want("High CPU Temperature", "firing", "critical", "2020-02-06T00:17:58.432911+00:00", None,
             "web-01", "CPU core temperature is 34.75C", CPU, "a1bc48475b20e73d", ["fingerprint"], url=CPU_URL),
        Want("High CPU Temperature", "firing", "critical", "2020-02-06T00:17:58.432911+00:00", None,
             "web-01", "CPU core temperature is 17.625C", CPU, "c2ea85182f28cbd9", ["fingerprint"], url=CPU_URL),
    ],
    "alertmanager/v4_resolved_one_alert.json": [
        # endsAt is still the zero time in this fixture: no end time is known.
        Want("High CPU Temperature", "resolved", "critical", "2020-02-06T00:17:58.432911+00:00", None,
             "web-01", "CPU core temperature is 34.75C", CPU, "a1bc48475b20e73d", ["fingerprint"], url=CPU_URL),
    ],
    "alertmanager/v4_firing_three_alerts_grouped.json": [
        Want("JustATestAlert_1", "firing", "info", "2020-10-11T14:34:11.279383+00:00", None, "", LOREM,
             {**PROMSTACK, "name": "grafana"}, "ff6a7a0f5f1c1309", ["fingerprint"],
             annotations={"key": "grafana | whatever/promstack", "value": "30.10 %"}),
        Want("JustATestAlert_1", "firing", "info", "2020-10-11T14:34:11.279383+00:00", None, "", LOREM,
             {**PROMSTACK, "name": "nginx"}, "554664fa753a2b45", ["fingerprint"]),
        Want("JustATestAlert_1", "firing", "info", "2020-10-11T14:34:11.279383+00:00", None, "", LOREM,
             {**PROMSTACK, "name": "prometheus"}, "911c76f0240f015b", ["fingerprint"]),
    ],
    "alertmanager/v4_firing_minimal_no_fingerprint.json": [
        Want("high_memory_load", "firing", "warning", "2018-03-07T11:33:21.873077+00:00", None,
             "instance-with-hyphen_and_underscore", "192.0.2.11 reported high memory usage with 23.28%.",
             {"alertname": "high_memory_load", "instance": "instance-with-hyphen_and_underscore",
              "job": "docker_nodes", "monitor": "master", "severity": "warning"}, None, ["labels"],
             annotations={"runbook": "https://runbook.example.com/high_memory_load"}),
    ],
    "alertmanager/v4_firing_am015_endsat_set.json": [
        # A firing alert's future endsAt is not an end.
        Want("Fire", "firing", "critical", "2018-11-04T21:43:58.283995+00:00", None, "",
             "Something is on fire", FIRE, None, ["labels"],
             url="http://localhost:9090/graph?g0.expr=vector%28666%29&g0.tab=1"),
    ],
    "alertmanager/v4_resolved_am015.json": [
        Want("Fire", "resolved", "critical", "2018-11-04T21:43:58.283995+00:00",
             "2018-11-04T21:48:13.283995+00:00", "", "Something is on fire", FIRE, None, ["labels"]),
    ],
    "grafana/unified_firing.json": [
        Want("Test alert", "firing", "warning", "2022-06-17T00:41:00.782137+00:00", None, "",
             "This is a description", GF_TEST, "d8a21484c9c25a60", ["fingerprint"], url=GF_VIEW,
             annotations={"summary": "This is a summary field, failure on some_host",
                          "valueString": "[ var='B0' metric='Value' labels={__name__=some_metric, "
                          "instance=some-value, job=jobname} value=24 ]"}),
    ],
    "grafana/unified_resolved.json": [
        Want("Test alert", "resolved", "warning", "2022-06-17T00:41:00.782137+00:00",
             "2022-06-17T00:51:24.067337+00:00", "", "This is a description", GF_TEST,
             "d8a21484c9c25a60", ["fingerprint"], url=GF_VIEW),
    ],
    "grafana/unified_mixed_firing_resolved.json": [
        Want("Test alert", "resolved", "warning", "2022-06-17T01:04:00.782137+00:00",
             "2022-06-17T01:08:28.652747+00:00", "badhost.example.com", "This is a description",
             {**RABBIT, "instance": "badhost.example.com"}, "aaafafe0953f0962", ["fingerprint"]),
        Want("Test alert", "resolved", "warning", "2022-06-17T01:04:00.782137+00:00",
             "2022-06-17T01:08:28.652747+00:00", "otherhost.example.com", "This is a description",
             {**RABBIT, "instance": "otherhost.example.com"}, "fb31814ac93dbe7d", ["fingerprint"]),
        Want("Second webhook test", "firing", "warning", "2022-06-17T01:03:00.782137+00:00", None, "",
             "Description **here**", {"alertname": "Second webhook test", "test": "true"},
             "6f9cd313db421ef1", ["fingerprint"],
             url="https://grafana.example.com/alerting/grafana/_0rkK_C7z/view"),
    ],
    "grafana/unified_test_notification_values.json": [
        # Top-level state says alerting; the alert's own status (resolved) is authoritative.
        Want("TestAlert", "resolved", "warning", "2022-08-31T05:54:04.522893+00:00",
             "2022-08-31T10:30:00.522884+00:00", "Grafana", "Notification test",
             {"alertname": "TestAlert", "instance": "Grafana"}, "57c6d9296de2ad39", ["fingerprint"],
             annotations={"values": {"foo": 10},
                          "imageURL": "https://grafana.com/assets/img/blog/mixed_styles.png"}),
    ],
    "grafana/legacy_alerting_evalmatches.json": [
        Want("Test rule", "firing", "warning", RECEIVED, None, "",
             "Someone is testing the alert notification within grafana.", {}, None,
             ["ruleId", "orgId", "dashboardId", "panelId"], url="http://localhost:3000/",
             annotations={"title": "[Alerting] Test notification",
                          "evalMatches": [{"metric": "High value", "value": 100},
                                          {"metric": "Higher Value", "value": 200}]}),
    ],
    "grafana/legacy_alerting_evalmatches_tags.json": [
        Want("Web-01 CPU alert", "firing", "warning", RECEIVED, None, "web-01.example.com", "boom!",
             LEGACY_TAGS, None, ["ruleId"], url=LEGACY_URL,
             annotations={"evalMatches": [{"metric": "user", "value": 97.007606}]}),
    ],
    "grafana/legacy_ok.json": [
        Want("Web-01 CPU alert", "resolved", "warning", None, RECEIVED, "", "boom!", {}, None,
             ["ruleId"], url=LEGACY_URL, annotations={"title": "[OK] CPU alert"}),
    ],
    "pagerduty/v3_incident_triggered.json": [
        Want("Test Incident 3", "firing", "critical", "2021-06-04T13:35:29.781000+00:00", None, "", "",
             {**PD_V3, "incident_number": "9"}, "PFQZPSY", ["event.data.id"],
             url="https://example.pagerduty.com/incidents/PFQZPSY"),
    ],
    "pagerduty/v3_incident_acknowledged.json": [
        Want("Test Incident", "firing", "critical", None, None, "", "",
             {**PD_V3, "incident_number": "10"}, "PQ1K5C8", ["event.data.id"], action="acknowledge",
             url="https://example.pagerduty.com/incidents/PQ1K5C8"),
    ],
    "pagerduty/v3_incident_resolved.json": [
        Want("Test Incident", "resolved", "critical", None, "2021-06-04T13:16:53.816000+00:00", "", "",
             {**PD_V3, "incident_number": "6"}, "PCPZE64", ["event.data.id"],
             url="https://example.pagerduty.com/incidents/PCPZE64"),
    ],
    "pagerduty/v2_incident_trigger.json": [
        Want("My new incident", "firing", "critical", "2017-09-26T15:14:36+00:00", None, "",
             "My new incident", PD_XDB, "PRORDTY", ["messages[].incident.id"],
             url="https://example.pagerduty.com/incidents/PRORDTY",
             annotations={"alert_keys": ["c24117fc42e44b44b4d6876190583378"]}),
    ],
    "pagerduty/v2_incident_resolve.json": [
        Want("My new incident", "resolved", "critical", "2017-09-26T15:14:36+00:00",
             "2017-09-26T15:18:09+00:00", "", "My new incident", PD_XDB, "PRORDTY",
             ["messages[].incident.id"], url="https://example.pagerduty.com/incidents/PRORDTY"),
    ],
    "pagerduty/v1_acknowledge_and_resolve.json": [
        Want("45645", "firing", "warning", "2013-07-09T20:25:44+00:00", None, "", "", PD_V1, "PIJ90N7",
             ["messages[].data.incident.id"], action="acknowledge",
             url="https://acme.pagerduty.com/incidents/PIJ90N7"),
        Want("45645", "resolved", "warning", "2013-07-09T20:25:44+00:00", "2013-07-09T20:25:45+00:00",
             "", "", PD_V1, "PIJ90N7", ["messages[].data.incident.id"],
             url="https://acme.pagerduty.com/incidents/PIJ90N7"),
    ],
    "datadog/log_alert_triggered.json": [
        Want("Error monitor", "firing", "critical", "2024-12-11T15:22:33+00:00", None, "",
             "trace_id:", {"monitor": "", "service": "keep-api"}, None, DD_FIELDS,
             url="https://app.datadoghq.com/event/event?id=7879716234457967220",
             annotations={"alert_transition": "Triggered", "id": "7879716234457967220"}),
    ],
    "datadog/log_alert_recovered.json": [
        Want("Error monitor", "resolved", "info", None, "2024-12-11T15:27:33+00:00", "",
             "trace_id:", {"monitor": "", "service": "keep-api"}, None, DD_FIELDS,
             url="https://app.datadoghq.com/event/event?id=7879721270911102314"),
    ],
    "datadog/log_alert_warn_p2.json": [
        # P2 monitor at its warning threshold: warning, not critical.
        Want("Unauthorized access to API keep-api", "firing", "warning", "2024-12-11T15:19:38+00:00",
             None, "", "https://app.datadoghq.com/logs/", DD_API, None, DD_FIELDS,
             url="https://app.datadoghq.com/event/event?id=7879713311244615328"),
    ],
    "datadog/log_alert_triggered_p2.json": [
        Want("Unauthorized access to API keep-api", "firing", "critical", "2024-12-11T15:25:38+00:00",
             None, "", "https://app.datadoghq.com/logs/", DD_API, None, DD_FIELDS,
             url="https://app.datadoghq.com/event/event?id=7879719351243698466"),
    ],
    "datadog/log_alert_recovered_p2.json": [
        Want("Unauthorized access to API", "resolved", "critical", None, "2024-12-11T15:24:39+00:00", "",
             "@webhook-keep-datadog", DD_API, None, DD_FIELDS,
             url="https://app.datadoghq.com/event/event?id=7879718351573282995"),
    ],
    "datadog/log_alert_triggered_database.json": [
        Want("Somethine weird in DB", "firing", "critical", "2024-12-11T15:15:35+00:00", None, "",
             "@webhook-keep", {"database_id": "example-project:keep", "monitor": ""}, None, DD_FIELDS,
             url="https://app.datadoghq.com/event/event?id=7879709234193994156"),
    ],
    "newrelic/classic_incident_open_full.json": [
        Want("New Relic Alert - Test Condition", "firing", "info", "2020-09-25T11:23:27.849000+00:00",
             None, "", "I am a test Violation",
             {"policy_name": "New Relic Alert - Test Policy",
              "condition_name": "New Relic Alert - Test Condition", "account_name": "Myaccount (Staging)"},
             "0", ["incident_id"], url="https://alerts.newrelic.com/accounts/11111/incidents/0",
             annotations={"runbook_url": "http://localhost/runbook/url"}),
    ],
    "newrelic/classic_incident_closed.json": [
        Want("Server Down", "resolved", "warning", None, "2020-11-11T22:32:11.151000+00:00", "",
             "Violation description test.",
             {"policy_name": "Test policy name", "condition_name": "Server Down"}, "1234",
             ["incident_id"], url="https://alerts.newrelic.com/accounts/1234567/incidents/1234"),
    ],
    "newrelic/workflow_issue_created_default.json": [
        Want("High CPU", "firing", "critical", "2024-04-22T06:36:29.495000+00:00", None,
             "MAIN-APP-UBUNTU", "MAIN-APP-UBUNTU query result is > 2.0 for 1 minutes on 'High CPU'",
             NR_CPU, "208c5e92-f250-40be-b7c2-50508c268c15", ["id"],
             url="https://radar-api.service.newrelic.com/accounts/1/issues/"
             "0ea2df1c-adab-45d2-aae0-042b609d2322?notifier=SLACK",
             annotations={"trigger": "INCIDENT_ADDED"}),
    ],
    "newrelic/workflow_issue_closed_default.json": [
        Want("High CPU", "resolved", "critical", "2024-04-22T06:16:30.228000+00:00",
             "2024-04-22T06:17:37.383000+00:00", "main_app-UBUNTU",
             "main_app-UBUNTU query result is > 2.0", NR_CPU, "95a9344a-2590-48ce-8d83-07e28b6d22c6",
             ["id"], url="https://radar-api.service.newrelic.com/accounts/1/issues/"
             "0ea2df1c-adab-45d2-aae0-042b609d2322?notifier=SLACK"),
    ],
    "newrelic/workflow_issue_activated_custom.json": [
        # HIGH is New Relic's priority for a warning-threshold issue.
        Want("Storage on Host Exceeded Threshold", "firing", "warning", "2024-04-22T07:12:29.493000+00:00",
             None, "", NR_STORAGE_TITLE, NR_STORAGE, "13bbcdca-f0b6-470d-b0be-b34583c58869", ["id"],
             url="https://radar-api.service.newrelic.com/accounts/1234567/issues/"
             "13bbcdca-f0b6-470d-b0be-b34583c58869?notifier=WEBHOOK", annotations={"owner": "N/A"}),
    ],
    "newrelic/workflow_issue_closed_custom.json": [
        Want("Storage on Host Exceeded Threshold", "resolved", "warning",
             "2024-04-22T07:12:29.493000+00:00", "2024-04-22T07:15:35.419000+00:00", "",
             NR_STORAGE_TITLE, NR_STORAGE, "13bbcdca-f0b6-470d-b0be-b34583c58869", ["id"],
             url="https://radar-api.service.newrelic.com/accounts/1234567/issues/"
             "13bbcdca-f0b6-470d-b0be-b34583c58869?notifier=WEBHOOK"),
    ],
    "opsgenie/create.json": [
        Want("another alert", "firing", "warning", "2017-08-14T11:25:56.288000+00:00", None, "Server", "",
             {"vip": "", "alias": "alert-alias", "tinyId": "2"}, "ec03dad6-62c8-4c94-b38b-d88f398e900f",
             ["alert.alertId"], annotations={"action": "Create", "integrationName": "Webhook"}),
    ],
    "opsgenie/acknowledge.json": [
        Want("test alert", "firing", "warning", "2015-01-05T10:03:11.104000+00:00", None, "", "",
             {"tag1": "", "tag2": "", "alias": "aliastest", "tinyId": "23"}, OG_ID, ["alert.alertId"],
             action="acknowledge"),
    ],
    "opsgenie/close.json": [
        # updatedAt is in nanoseconds.
        Want("test alert", "resolved", "warning", "2015-01-05T10:03:11.104000+00:00",
             "2015-01-05T10:06:14.669002+00:00", "", "", {"alias": "aliastest", "tinyId": "23"}, OG_ID,
             ["alert.alertId"]),
    ],
    "opsgenie/escalate.json": [
        Want("Opsgenie alert 7ba97e3a-d328-4b5e-8f9a-39e945a3869a", "firing", "warning", None, None, "",
             "", {}, "7ba97e3a-d328-4b5e-8f9a-39e945a3869a", ["alert.alertId"], action="escalate",
             annotations={"escalationName": "test_esc"}),
    ],
    "zabbix/problem_average.json": [
        Want(ZBX_UNREACHABLE, "firing", "warning", RECEIVED, None, "www.example.com",
             "Agent ping is Up (1)", {"triggerid": "14032"}, None, ["triggerid", "hostname"],
             url=ZBX_LINK + "10528", annotations={"eventid": "10528"}),
    ],
    "zabbix/problem_disaster.json": [
        Want(ZBX_UNREACHABLE, "firing", "critical", RECEIVED, None, "www.example.com",
             "Agent ping is Up (1)", {"triggerid": "14032"}, None, ["triggerid", "hostname"],
             url=ZBX_LINK + "10528"),
    ],
    "zabbix/recovery_ok.json": [
        Want("Zabbix agent on www.example.com is reachable", "resolved", "warning", None, RECEIVED,
             "www.example.com", "Agent ping is Up (1)", {"triggerid": "14032"}, None,
             ["triggerid", "hostname"], url=ZBX_LINK + "10529", annotations={"eventid": "10529"}),
    ],
    "generic/gcp_monitoring_incident_open.json": [
        Want("Webserver Health", "firing", "warning", "2017-07-06T19:10:14+00:00", None, "webserver-85",
             GCP_SUMMARY, GCP_LABELS, GCP_ID, ["incident.incident_id"],
             url=f"https://app.stackdriver.com/incidents/{GCP_ID}"),
    ],
    "generic/gcp_monitoring_incident_closed.json": [
        Want("Webserver Health", "resolved", "warning", "2017-07-06T19:10:14+00:00",
             "2017-07-06T19:20:36+00:00", "webserver-85", GCP_SUMMARY, GCP_LABELS, GCP_ID,
             ["incident.incident_id"], url=f"https://app.stackdriver.com/incidents/{GCP_ID}",
             annotations={"documentation": "This is a markdown text example"}),
    ],
    "generic/riemann_event_ok.json": [
        Want("http", "resolved", "info", None, None, "web-01", "This is a description",
             {"service": "http"}, None, ["host", "service"], annotations={"metric": 1}),
    ],
}

# Alerts that are the same alert in different notifications (fixture, index); any two
# alerts not in one group must have different fingerprints.
SAME_ALERT = [
    [("alertmanager/v4_firing_two_alerts.json", 0), ("alertmanager/v4_resolved_one_alert.json", 0)],
    [("alertmanager/v4_firing_am015_endsat_set.json", 0), ("alertmanager/v4_resolved_am015.json", 0)],
    [("grafana/unified_firing.json", 0), ("grafana/unified_resolved.json", 0)],
    [("grafana/legacy_alerting_evalmatches_tags.json", 0), ("grafana/legacy_ok.json", 0)],
    [("pagerduty/v2_incident_trigger.json", 0), ("pagerduty/v2_incident_resolve.json", 0)],
    [("pagerduty/v1_acknowledge_and_resolve.json", 0), ("pagerduty/v1_acknowledge_and_resolve.json", 1)],
    [("datadog/log_alert_triggered.json", 0), ("datadog/log_alert_recovered.json", 0)],
    [("datadog/log_alert_triggered_p2.json", 0), ("datadog/log_alert_recovered_p2.json", 0),
     ("datadog/log_alert_warn_p2.json", 0)],
    [("newrelic/workflow_issue_activated_custom.json", 0), ("newrelic/workflow_issue_closed_custom.json", 0)],
    [("opsgenie/acknowledge.json", 0), ("opsgenie/close.json", 0)],
    [("zabbix/problem_average.json", 0), ("zabbix/problem_disaster.json", 0), ("zabbix/recovery_ok.json", 0)],
    [("generic/gcp_monitoring_incident_open.json", 0), ("generic/gcp_monitoring_incident_closed.json", 0)],
]
# fmt: on


def all_fixtures() -> list[str]:
    return sorted(str(path.relative_to(PAYLOADS)) for path in PAYLOADS.glob("*/*.json"))


def test_every_fixture_has_expectations():
    assert sorted(EXPECTED) == all_fixtures()


def check_time(actual, want, before, after):
    if want is None:
        assert actual is None
    elif want == RECEIVED:
        assert actual.tzinfo is not None and before <= actual <= after
    else:
        assert actual.utcoffset().total_seconds() == 0
        assert actual == datetime.fromisoformat(want)


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_fixture_normalises(fixture):
    payload = load(fixture)
    vendor = fixture.split("/")[0]
    before = datetime.now(UTC)
    alerts = vendors.parse(payload, vendor)
    after = datetime.now(UTC)
    assert len(alerts) == len(EXPECTED[fixture])
    for alert, want in zip(alerts, EXPECTED[fixture], strict=True):
        assert (alert.name, alert.status, alert.severity) == (want.name, want.status, want.severity)
        check_time(alert.started_at, want.started, before, after)
        check_time(alert.ended_at, want.ended, before, after)
        assert alert.host == want.host
        assert alert.description.startswith(want.description)
        assert alert.labels == want.labels
        assert all(isinstance(v, str) for v in alert.labels.values())
        assert alert.fingerprint_fields == want.fields
        if want.fingerprint is None:
            assert HASHED.match(alert.fingerprint), alert.fingerprint
        else:
            assert alert.fingerprint == want.fingerprint
        assert alert.action == want.action
        assert alert.source == vendor
        if want.url:
            assert alert.url == want.url
        assert want.annotations.items() <= alert.annotations.items()


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_fingerprints_are_stable(fixture):
    first = [a.fingerprint for a in vendors.parse(load(fixture), fixture.split("/")[0])]
    again = [a.fingerprint for a in vendors.parse(load(fixture), fixture.split("/")[0])]
    assert first == again


def test_fingerprints_identify_the_same_alert_and_only_it():
    parsed = {f: vendors.parse(load(f), f.split("/")[0]) for f in EXPECTED}
    group_of = {member: n for n, group in enumerate(SAME_ALERT) for member in group}
    owners: dict[tuple[str, str], set] = {}
    for fixture, alerts in parsed.items():
        for index, alert in enumerate(alerts):
            identity = group_of.get((fixture, index), (fixture, index))
            owners.setdefault((alert.source, alert.fingerprint), set()).add(identity)
    shared = {key: ids for key, ids in owners.items() if len(ids) > 1}
    assert shared == {}, "different alerts share a fingerprint"
    for group in SAME_ALERT:
        prints = {parsed[f][i].fingerprint for f, i in group}
        assert len(prints) == 1, group
