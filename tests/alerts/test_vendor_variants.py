"""Variants real senders send (tests/fixtures/variants, with their documentation pages):
each normalises to the right alert and says which fallbacks it took; no detector but its
vendor's claims any variant or shared fixture; what cannot be an alert is still refused."""

import copy
import importlib
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.alerts import vendors
from apps.alerts.models import Alert
from apps.alerts.services import ingest
from apps.alerts.vendors import PayloadError
from apps.alerts.vendors.base import normalize_severity
from apps.alerts.vendors.zabbix import SEVERITY as ZABBIX_SEVERITY

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
VARIANTS = FIXTURES / "variants"
MODULES = {name: importlib.import_module(path) for name, path in vendors.VENDORS.items()}


def load(path: Path):
    return json.loads(path.read_text())


def variant(relative: str):
    return load(VARIANTS / relative)


# file -> one row per alert: (name, status, severity, host, fingerprint_fields, a parse note)
# fmt: off
EXPECTED = {
    "alertmanager/webhook_no_groupkey.json": [
        ("NodeDown", "firing", "critical", "web-07", ["labels"],
         'groupKey missing: derived {}:{alertname="NodeDown"} from groupLabels')],
    "alertmanager/webhook_no_version_no_status.json": [
        ("DiskFull", "resolved", "warning", "db-02", ["labels"],
         "no status: resolved because endsAt is past")],
    "alertmanager/prometheus_alert_list.json": [
        ("InstanceDown", "firing", "warning", "web-02:9100", ["labels"],
         "a bare list of Prometheus alerts: read as one group")],
    "grafana/unified_no_groupkey_no_version.json": [
        ("High memory", "firing", "warning", "web-03", ["fingerprint"], "no severity label: warning")],
    "grafana/legacy_no_evalmatches.json": [
        ("Disk usage alert", "resolved", "critical", "", ["ruleId"], "no evalMatches: no values")],
    "zabbix/recommended_problem.json": [
        ("Nginx is not running on web-07", "firing", "critical", "web-07",
         ["triggerid", "hostname"], None)],
    "zabbix/recommended_recovery.json": [
        ("Nginx is not running on web-07", "resolved", "critical", "web-07",
         ["triggerid", "hostname"], None)],
    "zabbix/shipped_media_type_names.json": [
        ("Free disk space is less than 20% on volume /var", "firing", "warning", "db-02",
         ["triggerid", "hostname"], "trigger_name read from 'title'")],
    "zabbix/user_params_status_words.json": [
        ("High CPU utilization (over 90% for 5m)", "resolved", "warning", "app-05",
         ["trigger", "hostname"], "no trigger id: fingerprint from the trigger name and host")],
    "zabbix/macro_named_parameters.json": [
        ("High CPU utilization (over 90% for 5m)", "resolved", "critical", "app-05",
         ["triggerid", "hostname"], "trigger_severity read from 'event_nseverity'")],
    "zabbix/shipped_pagerduty_media_type_problem.json": [
        ("Load average is too high on app-05", "firing", "critical", "app-05",
         ["triggerid", "hostname"], "trigger_name read from 'eventname'")],
    "zabbix/shipped_pagerduty_media_type_recovery.json": [
        ("Load average is too high on app-05", "resolved", "critical", "app-05",
         ["triggerid", "hostname"], "no event_recovery_date/event_recovery_time: the receive time")],
    "datadog/event_priority_warning.json": [
        ("Disk usage on db-02", "firing", "warning", "db-02", ["monitor_id", "scopes"],
         "priority 'normal' is the event's priority ($PRIORITY), not a severity")],
    "datadog/event_priority_recovered.json": [
        ("Disk usage on db-02", "resolved", "info", "db-02", ["monitor_id", "scopes"],
         "priority 'low' is the event's priority ($PRIORITY), not a severity")],
    "datadog/uppercase_variable_names.json": [
        ("Memory above 90%", "firing", "critical", "web-07", ["monitor_id", "scopes"],
         "monitor_id read from 'alert_id'")],
    "datadog/default_payload.json": [
        ("CPU usage is high", "firing", "warning", "", ["title", "scopes"],
         "status read from the title's [triggered]")],
    "datadog/alert_variables.json": [
        ("Disk almost full on db-02", "resolved", "critical", "db-02", ["monitor_id", "scopes"],
         "monitor_id read from 'alert_id'")],
    "datadog/aggreg_key_warn.json": [
        ("Queue depth rising", "firing", "warning", "", ["aggreg_key"],
         "no monitor id: fingerprint from aggreg_key")],
    "pagerduty/v3_no_occurred_at.json": [
        ("Checkout latency above SLO", "firing", "critical", "", ["event.data.id"],
         "no event.occurred_at: the receive time")],
    "pagerduty/v2_message_data_incident.json": [
        ("Nginx is not running on web-07", "resolved", "warning", "",
         ["messages[].data.incident.id"], None)],
    "pagerduty/events_v2_trigger.json": [
        ("CPU above 95% on web-07", "firing", "critical", "web-07", ["dedup_key"],
         "a PagerDuty Events API v2 body (event_action)")],
    "pagerduty/events_v2_resolve.json": [
        ("PagerDuty event web-07/cpu", "resolved", "warning", "", ["dedup_key"],
         "no payload.severity: warning")],
    "newrelic/workflow_variable_names.json": [
        ("Memory high", "firing", "critical", "web-07", ["issueId"], "id read from 'issueId'")],
    "newrelic/classic_no_incident_id.json": [
        ("Host not reporting", "firing", "critical", "web-07",
         ["condition_id", "policy_name", "targets"],
         "no incident_id: fingerprint from the condition and target")],
    "opsgenie/create_alias_only.json": [
        ("Nginx is down on web-07", "firing", "critical", "web-07", ["alert.alias"],
         "no alert.alertId: identified by alert.alias")],
    "generic/name_only.json": [
        ("Nightly backup failed", "firing", "warning", "", ["name", "host"], "no status: firing")],
    "generic/alerts_title_state_priority.json": [
        ("API error rate high", "firing", "critical", "api-01", ["name", "host"],
         "status read from 'state'"),
        ("Queue backlog", "resolved", "info", "", ["name", "host"], "severity read from 'priority'")],
    "generic/level_and_tags.json": [
        ("Certificate expires in 5 days", "firing", "warning", "lb-01", ["name", "host", "labels"],
         "severity read from 'level'")],
}
# fmt: on


def all_files(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.glob("*/*.json"))


def test_every_variant_has_expectations_and_provenance():
    assert all_files(VARIANTS) == sorted(EXPECTED)
    readme = (VARIANTS / "README.md").read_text()
    for name in EXPECTED:
        row = next(line for line in readme.splitlines() if f"`{name}`" in line)
        assert "https://" in row or "docs/alert-formats.md" in row, name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_variant_normalises(name):
    vendor = name.split("/")[0]
    alerts = vendors.parse(variant(name), vendor)
    got = [(a.name, a.status, a.severity, a.host, a.fingerprint_fields) for a in alerts]
    assert got == [row[:5] for row in EXPECTED[name]]
    for alert, row in zip(alerts, EXPECTED[name], strict=True):
        assert alert.source == vendor
        if row[5] is not None:
            assert row[5] in alert.parse_notes
        assert all(isinstance(note, str) and "\n" not in note for note in alert.parse_notes)


@pytest.mark.parametrize(
    "path",
    [
        *(("payloads", f) for f in all_files(FIXTURES / "payloads")),
        *(("variants", f) for f in EXPECTED),
    ],
    ids=lambda p: "/".join(p),
)
def test_no_variant_is_detected_as_another_vendor(path):
    payload = load(FIXTURES / path[0] / path[1])
    vendor = path[1].split("/")[0]
    assert [name for name, module in MODULES.items() if module.detect(payload)] == [vendor]
    assert vendors.detect(payload) == vendor


def test_a_variant_named_for_another_vendor_is_refused_naming_its_own():
    with pytest.raises(
        PayloadError, match=r"^payload is not a datadog payload \(it looks like zabbix\)$"
    ):
        vendors.parse(variant("zabbix/recommended_problem.json"), "datadog")


def test_unexpanded_template_variables_are_no_value():
    body = variant("zabbix/recommended_problem.json") | {
        "event_date": "{EVENT.DATE}",
        "trigger_id": "{TRIGGER.ID}",
    }
    [alert] = vendors.parse(body, "zabbix")
    assert "recovery_eventid" not in alert.annotations
    assert alert.fingerprint_fields == ["trigger", "hostname"]
    assert "no event_date/event_time: the receive time" in alert.parse_notes
    datadog = variant("datadog/alert_variables.json") | {"alert_id": "$ALERT_ID"}
    [alert] = vendors.parse(datadog, "datadog")
    assert alert.fingerprint_fields == ["aggreg_key"]


# --- severity tables (docs/alert-formats.md, "Severity") -------------------------------------


@pytest.mark.parametrize(
    ("value", "table", "expected"),
    [
        ("P2 - Medium", None, "critical"),
        ("P3 - Low", None, "warning"),
        ("sev1 (major)", None, "critical"),
        *(
            (str(n), ZABBIX_SEVERITY, s)
            for n, s in enumerate(["info", "info", "warning", "warning", "critical", "critical"])
        ),
        ("Not classified", ZABBIX_SEVERITY, "info"),
        ("Average", ZABBIX_SEVERITY, "warning"),
        ("Disaster", ZABBIX_SEVERITY, "critical"),
        ("error", None, "critical"),
        ("warn", None, "warning"),
        ("debug", None, "info"),
        ("alerting", None, "warning"),  # Grafana's state is not a severity: the default
    ],
)
def test_severity_tables(value, table, expected):
    assert normalize_severity(value, table) == expected


def test_pagerduty_priority_with_high_urgency():
    [alert] = vendors.parse(variant("pagerduty/v3_no_occurred_at.json"), "pagerduty")
    assert alert.severity == "critical"
    low = copy.deepcopy(variant("pagerduty/v3_no_occurred_at.json"))
    del low["event"]["data"]["priority"]
    low["event"]["data"]["urgency"] = "low"
    assert vendors.parse(low, "pagerduty")[0].severity == "warning"


# --- what is still refused ---------------------------------------------------------------------

# fmt: off
STILL_REFUSED = [
    ("alertmanager", {"version": "4", "alerts": []}, "alertmanager payload has an empty 'alerts' list"),
    ("alertmanager", {"version": "4", "alerts": [{"labels": {}}]}, "alerts[0].labels.alertname is missing"),
    ("zabbix", {"event_id": "1", "host_name": "web-07"}, "zabbix payload has no trigger name"),
    ("zabbix", {"event_id": "1", "trigger_name": ["x"]}, "zabbix trigger_name must be a string, got array"),
    ("zabbix", {"event_id": "1", "trigger_name": "x", "event_value": "7"},
     "zabbix event_value must be PROBLEM, FIRING, RESOLVED, OK, 1 or 0, got '7'"),
    ("datadog", {"alert_id": "1", "alert_transition": "Triggered"}, "datadog payload has no 'title'"),
    ("datadog", {"alert_title": {"a": 1}}, "datadog alert_title must be a string, got object"),
    ("pagerduty", {"event_action": "explode", "payload": {"summary": "x"}},
     "pagerduty event_action must be trigger, acknowledge or resolve"),
    ("pagerduty", {"event_action": "trigger", "routing_key": "k", "payload": {}},
     "pagerduty event has no payload.summary"),
    ("newrelic", {"current_state": "open", "account_name": "a"},
     "newrelic payload has no incident_id, condition_id or condition_name"),
    ("newrelic", {"issueId": "", "title": "x", "state": "CREATED"}, "newrelic issue id is missing"),
    ("generic", {"name": {"first": "x"}}, "generic alert.name must be a string, got object"),
    ("generic", {"name": "x", "labels": "team=web"}, "alert.labels must be a JSON object, got string"),
    ("generic", {"name": "x", "labels": {"team": ["a"]}}, "alert.labels.team must be a string"),
    ("generic", {"title": "x", "state": "sideways"}, "alert.state: unknown status 'sideways'"),
]
# fmt: on


@pytest.mark.parametrize(("vendor", "payload", "message"), STILL_REFUSED)
def test_what_cannot_be_an_alert_is_refused_in_one_line(vendor, payload, message):
    with pytest.raises(PayloadError) as error:
        vendors.parse(payload, vendor)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("payload", [{}, {"server": "web-01"}, {"alerts": []}, [1, 2], "x"])
def test_bodies_without_any_alert_are_claimed_by_nobody(payload):
    assert vendors.detect(payload) is None


# --- stored and explained ------------------------------------------------------------------------


@pytest.mark.django_db
def test_explain_alert_shows_the_fallbacks(capsys, settings):
    settings.INGEST_START_RUNS = False
    ingest(variant("zabbix/user_params_status_words.json"), "zabbix")
    alert = Alert.objects.get()
    assert "event_value read from 'status'" in alert.annotations["parse_notes"]
    call_command("explain_alert", str(alert.pk))
    output = capsys.readouterr().out
    assert "read with" in output
    assert "trigger_name read from 'trigger'; host_name read from 'host'" in output


@pytest.mark.django_db
def test_explain_alert_without_fallbacks_says_so(capsys, settings):
    settings.INGEST_START_RUNS = False
    ingest(variant("zabbix/recommended_problem.json"), "zabbix")
    call_command("explain_alert", str(Alert.objects.get().pk))
    assert "no fallbacks" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_mutated_variants_parse_or_fail_cleanly(name):
    """Every field of every variant replaced by odd values or removed: the vendor's own
    parser returns valid alerts or raises a one-line PayloadError, nothing else."""
    from tests.alerts.test_vendors_detect import ODD_VALUES, check_alert, drop, paths, replace

    original = variant(name)
    module = MODULES[name.split("/")[0]]
    parsed = 0
    for path in list(paths(original)):
        for payload in [*(replace(original, path, v) for v in ODD_VALUES), drop(original, path)]:
            if not module.detect(payload):
                continue
            try:
                alerts = module.parse(payload)
            except PayloadError as error:
                assert str(error) and "\n" not in str(error)
                continue
            assert alerts
            for alert in alerts:
                check_alert(alert)
            parsed += 1
    assert parsed > 0


# --- over HTTP: the refusal table, now accepted --------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_variant_is_accepted_by_its_vendor_path(client, settings, name):
    from apps.common.models import ApiKey

    settings.INGEST_START_RUNS = False
    key = ApiKey.create_key("variants", ["ingest"])[1]
    vendor = name.split("/")[0]
    response = client.post(
        f"/api/alerts/{vendor}/", data=(VARIANTS / name).read_text(),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}",
    )  # fmt: skip
    assert response.status_code == 202, response.content
    assert Alert.objects.filter(source=vendor).count() == len(
        {(row[0], row[3]) for row in EXPECTED[name]}
    )


@pytest.mark.django_db
def test_labels_of_the_wrong_type_are_a_400_naming_the_field(client, settings):
    from apps.common.models import ApiKey

    settings.INGEST_START_RUNS = False
    key = ApiKey.create_key("variants", ["ingest"])[1]
    response = client.post(
        "/api/alerts/generic/", data=json.dumps({"name": "x", "labels": ["team:web"]}),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["message"] == "alert.labels must be a JSON object, got array"
    assert Alert.objects.count() == 0


@pytest.mark.django_db
def test_a_recovery_notice_keeps_the_start_and_the_text_keeps_its_percent_signs():
    """Was: Datadog's recovery (no start time in it) erased the stored start, and the %%%
    markers were stripped with every % at the ends of the text ("at 85%" -> "at 85")."""
    ingest(variant("datadog/event_priority_warning.json"), "datadog")
    alert = Alert.objects.get()
    started = alert.started_at
    assert started is not None and alert.severity == "warning"
    assert alert.description == "Disk usage at 85% on /var (threshold 80%)"
    ingest(variant("datadog/event_priority_recovered.json"), "datadog")
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.started_at == started
    assert alert.ended_at is not None and alert.description == "Disk usage back to 62%"


@pytest.mark.django_db
def test_zabbix_shipped_media_type_resolves_what_it_opened_and_keeps_the_problem_start():
    opened = ingest(variant("zabbix/shipped_pagerduty_media_type_problem.json"), "zabbix")
    alert = Alert.objects.get()
    assert alert.started_at.isoformat() == "2026-11-30T14:02:10+00:00"
    assert alert.labels["scope"] == "performance" and alert.labels["service"] == "api"
    closed = ingest(variant("zabbix/shipped_pagerduty_media_type_recovery.json"), "zabbix")
    assert closed.incident.pk == opened.incident.pk and closed.incident.status == "resolved"
    alert.refresh_from_db()
    assert alert.started_at.isoformat() == "2026-11-30T14:02:10+00:00"


def test_grafana_links_relative_to_grafana_are_made_absolute_and_a_bare_query_is_skipped():
    from apps.alerts.vendors.grafana import absolute

    body = variant("grafana/unified_no_groupkey_no_version.json")
    body["externalURL"] = "https://grafana.example.com/"
    item = body["alerts"][0]
    item.update(generatorURL="?orgId=1", panelURL="/d/uid?viewPanel=1", dashboardURL="/d/uid")
    assert vendors.parse(body, "grafana")[0].url == "https://grafana.example.com/d/uid?viewPanel=1"
    item["generatorURL"] = "/alerting/grafana/abc/view"
    assert (
        vendors.parse(body, "grafana")[0].url
        == "https://grafana.example.com/alerting/grafana/abc/view"
    )
    assert absolute("/x", "not a url") == "/x" and absolute("/x", "http://[::1") == "/x"
    assert (
        absolute("https://other.example/x", "https://grafana.example.com/")
        == "https://other.example/x"
    )
