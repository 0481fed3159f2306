"""POST /api/alerts/<source>/ and /api/alerts/: status codes, JSON bodies, auth, runs."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.alerts.models import Alert, AlertEvent, Incident, IncidentEvent
from apps.common.models import ApiKey
from apps.orchestration.models import PipelineDefinition, PipelineRun, RunStatus
from tests.conftest import load_payload

pytestmark = pytest.mark.django_db

AM_FIRING = "alertmanager/v4_firing_two_alerts.json"


@pytest.fixture(autouse=True)
def runs_off(settings):
    settings.INGEST_START_RUNS = False


def post(client, path, body, key=None, **extra):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    if key:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client.post(path, data=data, content_type="application/json", **extra)


def stored() -> dict[str, int]:
    return {
        m.__name__: m.objects.count()
        for m in (Alert, Incident, AlertEvent, IncidentEvent, PipelineRun)
    }


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == code
    assert body["message"] and "\n" not in body["message"]


# --- accepted -------------------------------------------------------------------------------


def test_vendor_path_accepts_and_answers_202(client, ingest_key):
    response = post(client, "/api/alerts/alertmanager/", load_payload(AM_FIRING), ingest_key)
    assert response.status_code == 202
    body = response.json()
    assert len(body["trace_id"]) == 32
    assert body["alerts"] == {"created": 2, "updated": 0, "resolved": 0, "unchanged": 0}
    assert body["incidents"] == [Incident.objects.get().pk]
    assert body["runs"] == []
    assert set(AlertEvent.objects.values_list("trace_id", flat=True)) == {body["trace_id"]}


def test_auto_detect_path(client, ingest_key):
    response = post(
        client, "/api/alerts/", load_payload("zabbix/problem_disaster.json"), ingest_key
    )
    assert response.status_code == 202
    assert Alert.objects.get().source == "zabbix"


def test_resend_is_unchanged_and_writes_nothing(client, ingest_key):
    post(client, "/api/alerts/alertmanager/", load_payload(AM_FIRING), ingest_key)
    before = stored()
    response = post(client, "/api/alerts/alertmanager/", load_payload(AM_FIRING), ingest_key)
    assert response.json()["alerts"]["unchanged"] == 2
    assert stored() == before


def test_checks_path(client, ingest_key):
    body = {"name": "disk", "host": "db-1", "status": "firing", "severity": "critical"}
    response = post(client, "/api/alerts/checks/", body, ingest_key)
    assert response.status_code == 202
    assert Alert.objects.get().source == "checks"


# --- rejected: nothing stored ---------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"   ", "\ud800".encode("utf-8", "surrogatepass"), b"[" * 100000],
)
def test_invalid_json_is_400(client, ingest_key, body):
    assert_error(post(client, "/api/alerts/", body, ingest_key), 400, "invalid_json")
    assert stored() == dict.fromkeys(stored(), 0)


@pytest.mark.parametrize("body", [{"hello": "world"}, [], 42, '"text"', {"alerts": []}, "null"])
def test_unclaimed_payload_is_400(client, ingest_key, body):
    assert_error(post(client, "/api/alerts/", body, ingest_key), 400, "rejected_payload")
    assert stored() == dict.fromkeys(stored(), 0)


def test_wrong_vendor_path_is_400(client, ingest_key):
    response = post(client, "/api/alerts/grafana/", load_payload(AM_FIRING), ingest_key)
    assert_error(response, 400, "rejected_payload")
    assert "looks like alertmanager" in response.json()["message"]
    assert Alert.objects.count() == 0


def test_unknown_vendor_path_is_404(client, ingest_key):
    response = post(client, "/api/alerts/nagios/", load_payload(AM_FIRING), ingest_key)
    assert_error(response, 404, "unknown_source")
    assert Alert.objects.count() == 0


def test_body_over_the_limit_is_413_by_content_length(client, ingest_key, settings):
    settings.INGEST_MAX_BODY_BYTES = 1000
    payload = load_payload(AM_FIRING)
    payload["padding"] = "x" * 2000
    assert_error(post(client, "/api/alerts/", payload, ingest_key), 413, "too_large")
    assert Alert.objects.count() == 0


def test_read_is_capped_even_when_content_length_understates(rf, ingest_key, settings):
    from apps.api.webhooks import receive

    settings.INGEST_MAX_BODY_BYTES = 100
    body = json.dumps(load_payload(AM_FIRING)).encode()
    request = rf.post("/api/alerts/", data=body, content_type="application/json",
                      HTTP_AUTHORIZATION=f"Bearer {ingest_key}")  # fmt: skip
    request.META["CONTENT_LENGTH"] = "50"  # claims small: the declared check passes
    response = receive(request)
    assert response.status_code == 413  # the capped read found more than the limit
    assert Alert.objects.count() == 0


def test_get_is_405(client, ingest_key):
    response = client.get("/api/alerts/", HTTP_AUTHORIZATION=f"Bearer {ingest_key}")
    assert_error(response, 405, "method_not_allowed")


# --- authentication -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer ipk_not-a-real-key", "Token x"],
)
def test_missing_or_invalid_key_is_401(client, header):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = post(client, "/api/alerts/alertmanager/", load_payload(AM_FIRING), **extra)
    assert_error(response, 401, response.json()["code"])
    assert response.json()["code"] in ("unauthenticated", "invalid_key")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert Alert.objects.count() == 0


def test_key_without_ingest_scope_is_403(client, read_key):
    response = post(client, "/api/alerts/alertmanager/", load_payload(AM_FIRING), read_key)
    assert_error(response, 403, "missing_scope")
    assert Alert.objects.count() == 0


def test_deactivated_key_is_401(client, ingest_key):
    ApiKey.objects.update(is_active=False)
    response = post(client, "/api/alerts/alertmanager/", load_payload(AM_FIRING), ingest_key)
    assert_error(response, 401, "invalid_key")


def test_key_use_is_recorded_at_most_once_a_minute(client, ingest_key):
    post(client, "/api/alerts/alertmanager/", load_payload(AM_FIRING), ingest_key)
    first = ApiKey.objects.get().last_used_at
    assert first is not None
    with CaptureQueriesContext(connection) as queries:
        post(client, "/api/alerts/alertmanager/", load_payload(AM_FIRING), ingest_key)
    assert not any("common_apikey" in q["sql"] and q["sql"].startswith("UPDATE") for q in queries)
    assert ApiKey.objects.get().last_used_at == first


# --- starting runs --------------------------------------------------------------------------


def define(name, match, priority=100, active=True):
    return PipelineDefinition.objects.create(
        name=name,
        match=match,
        priority=priority,
        is_active=active,
        config={"nodes": [{"id": "ingest", "type": "ingest", "config": {}}]},
    )


def test_one_run_per_changed_incident_routed_by_match(
    client, ingest_key, settings, django_capture_on_commit_callbacks
):
    settings.INGEST_START_RUNS = True
    define("am-critical", {"source": "alertmanager", "severity": ["critical"]}, priority=10)
    define("catch-all-inactive", {"source": "alertmanager"}, priority=1, active=False)
    define("web-hosts", {"labels_regex": {"host": "^web-"}, "severity": "warning"}, priority=20)
    payload = load_payload(AM_FIRING)  # two critical alerts of one incident on web-01
    extra = json.loads(json.dumps(payload["alerts"][0]))
    extra["labels"].update(alertname="DiskFull", severity="warning", host="web-02")
    extra["fingerprint"] = "d15cf011"
    other = json.loads(json.dumps(extra))
    other["labels"].update(alertname="DiskFull", severity="warning", host="db-02")
    other["fingerprint"] = "d15cf012"
    payload["alerts"] += [extra, other]
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(client, "/api/alerts/alertmanager/", payload, ingest_key)
    assert response.status_code == 202
    body = response.json()
    runs = PipelineRun.objects.filter(pk__in=body["runs"])
    assert len(body["runs"]) == len(body["incidents"]) == runs.count() == 3
    assert {run.incident_id for run in runs} == set(body["incidents"])
    assert all(run.status == RunStatus.PENDING for run in runs)
    assert all(run.trace_id == body["trace_id"] for run in runs)
    assert len(callbacks) == 1  # dispatch happens after commit, once for all runs
    chosen = {run.incident.host: run.definition_name for run in runs}
    assert chosen["web-01"] == "am-critical"
    assert chosen["web-02"] == "web-hosts"
    assert chosen["db-02"] not in ("am-critical", "web-hosts", "catch-all-inactive")
    assert runs.get(incident__host="db-02").definition_id is None  # the built-in standard one


def test_no_runs_for_unchanged_or_partial_resolve(client, ingest_key, settings):
    settings.INGEST_START_RUNS = True
    post(client, "/api/alerts/alertmanager/", load_payload(AM_FIRING), ingest_key)
    assert PipelineRun.objects.count() == 1
    again = post(client, "/api/alerts/alertmanager/", load_payload(AM_FIRING), ingest_key)
    assert again.json()["runs"] == []
    partial = load_payload(AM_FIRING)
    partial["alerts"] = partial["alerts"][:1]
    partial["alerts"][0]["status"] = "resolved"
    partial["status"] = "resolved"
    response = post(client, "/api/alerts/alertmanager/", partial, ingest_key)
    assert response.json()["alerts"]["resolved"] == 1
    assert response.json()["runs"] == []
    full = load_payload(AM_FIRING)
    for alert in full["alerts"]:
        alert["status"] = "resolved"
    full["status"] = "resolved"
    response = post(client, "/api/alerts/alertmanager/", full, ingest_key)
    assert len(response.json()["runs"]) == 1
    assert Incident.objects.get().status == "resolved"


def test_runs_off_setting_starts_none(client, ingest_key):
    response = post(client, "/api/alerts/alertmanager/", load_payload(AM_FIRING), ingest_key)
    assert response.json()["runs"] == []
    assert PipelineRun.objects.count() == 0


def test_started_run_executes_after_dispatch(client, ingest_key, settings):
    """The run the webhook created is a real run: executing it completes it."""
    from apps.orchestration.services import execute_run

    settings.INGEST_START_RUNS = True
    response = post(client, "/api/alerts/alertmanager/", load_payload(AM_FIRING), ingest_key)
    (run_id,) = response.json()["runs"]
    execute_run(run_id)
    run = PipelineRun.objects.get(pk=run_id)
    assert run.status in (RunStatus.COMPLETED, RunStatus.FAILED)
    ingest_stage = run.stages.get(node_id="ingest")
    assert ingest_stage.output["already_ingested"] is True
    assert ingest_stage.output["incident_id"] == Incident.objects.get().pk
    assert Alert.objects.count() == 2  # the run did not ingest a second time
    # the real counts of what the webhook stored for this run's incident
    assert ingest_stage.output["alerts"] == {"created": 2, "updated": 0, "resolved": 0}

    resolved = load_payload(AM_FIRING)
    for alert in resolved["alerts"]:
        alert["status"] = "resolved"
    response = post(client, "/api/alerts/alertmanager/", resolved, ingest_key)
    (run_id,) = response.json()["runs"]
    execute_run(run_id)
    stage = PipelineRun.objects.get(pk=run_id).stages.get(node_id="ingest")
    assert stage.output["alerts"] == {"created": 0, "updated": 0, "resolved": 2}


def test_without_a_broker_the_webhook_stores_the_run_with_its_priority_and_executes_nothing(
    client, ingest_key, settings, django_capture_on_commit_callbacks
):
    settings.INGEST_START_RUNS, settings.PIPELINE_RUNNER = True, "worker"
    with django_capture_on_commit_callbacks(execute=True):  # two critical alerts
        response = post(client, "/api/alerts/alertmanager/", load_payload(AM_FIRING), ingest_key)
    assert response.status_code == 202, response.content
    (run_id,) = response.json()["runs"]
    run = PipelineRun.objects.get(pk=run_id)
    assert (run.status, run.priority, run.claimed_by) == (RunStatus.PENDING, 0, "")


@pytest.mark.parametrize(
    "body, fragment",
    [
        (b'{"alerts": [{"name": "x", "value": NaN}]}', "NaN is not a JSON value"),
        (b'{"name": "x\\u0000y", "status": "firing"}', "NUL character"),
        (b"[" * 100000, "nested too deeply"),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
)
def test_json_the_database_cannot_store_is_a_400(client, ingest_key, body, fragment):
    from apps.alerts.models import Alert

    response = client.post(
        "/api/alerts/",
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {ingest_key}",
    )
    assert response.status_code == 400
    assert fragment in response.json()["message"]
    assert Alert.objects.count() == 0


NEWRELIC_TEST = {  # what New Relic's "Send test notification" posts through a classic channel
    "account_id": "1", "account_name": "Example", "condition_id": "1", "condition_name":
    "Test Condition", "current_state": "test", "details": "This is a test notification",
    "event_type": "NOTIFICATION", "incident_acknowledge_url": "", "incident_id": "0",
    "incident_url": "", "owner": "", "policy_name": "Test Policy", "policy_url": "",
    "runbook_url": "", "severity": "INFO", "targets": [], "timestamp": 1764511330000,
}  # fmt: skip
PAGEY_PING = {  # PagerDuty's V3 test of a webhook subscription
    "event": {"id": "01ABC", "event_type": "pagey.ping", "resource_type": "pagey",
              "occurred_at": "2026-11-30T14:02:10.000Z", "agent": None, "client": None,
              "data": {"message": "Hello from your friend Pagey!", "type": "ping"}}
}  # fmt: skip


@pytest.mark.parametrize(
    ("path", "body", "detail"),
    [
        ("/api/alerts/newrelic/", NEWRELIC_TEST, "newrelic test notification received"),
        ("/api/alerts/", NEWRELIC_TEST, "newrelic test notification received"),
        ("/api/alerts/pagerduty/", PAGEY_PING, "pagerduty ping (pagey.ping) received"),
        ("/api/alerts/", PAGEY_PING, "pagerduty ping (pagey.ping) received"),
    ],
)
def test_a_vendors_test_notification_gets_200_and_stores_nothing(
    client, ingest_key, path, body, detail
):
    before = stored()
    response = post(client, path, body, ingest_key)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["test"] is True and answer["detail"].startswith(detail)
    assert "nothing stored" in answer["detail"] and len(answer["trace_id"]) == 32
    assert stored() == before


def test_a_test_notification_still_needs_the_key(client):
    assert_error(post(client, "/api/alerts/newrelic/", NEWRELIC_TEST), 401, "unauthenticated")


def test_a_byte_order_mark_before_the_json_is_ignored(client, ingest_key):
    body = b"\xef\xbb\xbf" + json.dumps(load_payload(AM_FIRING)).encode()
    response = post(client, "/api/alerts/alertmanager/", body, ingest_key)
    assert response.status_code == 202, response.content
    assert response.json()["alerts"]["created"] == 2


def test_a_v3_pagerduty_body_with_a_malformed_event_names_the_field(client, ingest_key):
    body = {"event": {"event_type": "incident.reopened", "data": [1]}}
    response = post(client, "/api/alerts/pagerduty/", body, ingest_key)
    assert_error(response, 400, "rejected_payload")
    assert response.json()["message"].startswith("pagerduty event.data must be a JSON object")


def test_a_bare_alerts_list_as_prometheus_sends_them_is_detected_as_alertmanager(
    client, ingest_key
):
    body = {"alerts": [{"status": "firing", "labels": {"alertname": "测试告警", "instance": "n1:9100"},
                        "annotations": {"summary": "这是一条测试"}, "startsAt": "2026-11-30T10:00:00Z"}]}  # fmt: skip
    response = post(client, "/api/alerts/", body, ingest_key)
    assert response.status_code == 202, response.content
    assert response.json()["source"] == "alertmanager"
    assert Alert.objects.get().name == "测试告警"
