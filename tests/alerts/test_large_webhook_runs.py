"""A webhook that changed several incidents gives every run its own incident's alerts, whole:
queued runs execute from what is stored."""

import copy
import json

import pytest

from apps.orchestration.models import PipelineRun
from tests.conftest import load_payload

pytestmark = pytest.mark.django_db


def fleet_payload(hosts: int, mounts: int) -> dict:
    """A real Alertmanager body repeated over many hosts: one incident per host (name + host),
    `mounts` alerts in each."""
    payload = load_payload("alertmanager/v4_firing_two_alerts.json")
    template = payload["alerts"][0]
    alerts = []
    for h in range(hosts):
        for m in range(mounts):
            alert = copy.deepcopy(template)
            alert["labels"].update(host=f"web-{h:03d}", mount=f"/data{m}")
            alert["annotations"]["description"] = "disk almost full " + "." * 200
            alert["fingerprint"] = f"{h:04x}{m:04x}"
            alerts.append(alert)
    payload["alerts"] = alerts
    return payload


def post(client, key: str, payload: dict):
    return client.post(
        "/api/alerts/alertmanager/",
        data=json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def test_each_run_stores_its_own_alerts_not_a_preview(client, ingest_key, settings):
    settings.INGEST_START_RUNS = True
    settings.PIPELINE_OUTPUT_MAX_BYTES = 16 * 1024
    payload = fleet_payload(hosts=20, mounts=3)
    assert len(json.dumps(payload)) > settings.PIPELINE_OUTPUT_MAX_BYTES
    body = post(client, ingest_key, payload).json()
    runs = list(PipelineRun.objects.filter(pk__in=body["runs"]).select_related("incident"))
    assert len(runs) == len(body["incidents"]) == 20
    for run in runs:
        assert "truncated" not in run.payload
        hosts = {alert["labels"]["host"] for alert in run.payload["alerts"]}
        assert hosts == {run.incident.host}
        assert len(run.payload["alerts"]) == 3
        assert run.payload["receiver"] == payload["receiver"]  # the envelope is kept


def test_a_webhook_that_changed_one_incident_keeps_the_whole_payload(client, ingest_key, settings):
    settings.INGEST_START_RUNS = True
    payload = fleet_payload(hosts=1, mounts=3)
    body = post(client, ingest_key, payload).json()
    (run,) = PipelineRun.objects.filter(pk__in=body["runs"])
    assert run.payload == payload


def test_a_small_webhook_of_several_incidents_gives_each_run_its_own_alerts_and_the_envelope(
    client, ingest_key, settings
):
    """Was: every run stored a copy of the whole body (ten incidents, ten copies: three
    quarters of what a storm wrote)."""
    settings.INGEST_START_RUNS = True
    payload = fleet_payload(hosts=3, mounts=2)
    body = post(client, ingest_key, payload).json()
    runs = list(PipelineRun.objects.filter(pk__in=body["runs"]).select_related("incident"))
    assert len(runs) == 3
    for run in runs:
        own = [a for a in payload["alerts"] if a["labels"]["host"] == run.incident.host]
        assert run.payload == {**{k: v for k, v in payload.items() if k != "alerts"}, "alerts": own}


def test_an_incident_larger_than_the_output_limit_keeps_its_whole_input(
    client, ingest_key, settings
):
    """Was: stored as a 2,000-character preview, and a queued run (Celery, run_worker) executed
    that preview instead of the alerts; replay re-ingested it and failed."""
    settings.INGEST_START_RUNS = True
    settings.PIPELINE_OUTPUT_MAX_BYTES = 4 * 1024
    payload = fleet_payload(hosts=1, mounts=40)
    body = post(client, ingest_key, payload).json()
    (run,) = PipelineRun.objects.filter(pk__in=body["runs"])
    assert run.payload == payload


def test_a_large_envelope_key_is_left_out_and_named(client, ingest_key, settings):
    settings.INGEST_START_RUNS = True
    settings.PIPELINE_OUTPUT_MAX_BYTES = 16 * 1024
    payload = fleet_payload(hosts=10, mounts=2)
    payload["commonAnnotations"]["summary"] = "s" * 20_000  # like Grafana's rendered `message`
    body = post(client, ingest_key, payload).json()
    for run in PipelineRun.objects.filter(pk__in=body["runs"]).select_related("incident"):
        assert run.payload["omitted_keys"] == ["commonAnnotations"]
        assert run.payload["receiver"] == payload["receiver"]
        assert {a["labels"]["host"] for a in run.payload["alerts"]} == {run.incident.host}


def test_secrets_in_a_large_body_are_redacted_in_every_run(client, ingest_key, settings):
    settings.INGEST_START_RUNS = True
    settings.PIPELINE_OUTPUT_MAX_BYTES = 16 * 1024
    payload = fleet_payload(hosts=10, mounts=3)
    payload["externalURL"] = "https://admin:hunter2@am.example.com"
    for alert in payload["alerts"]:
        alert["annotations"]["token"] = "xoxb-123456789012-abcdefabcdef"
    body = post(client, ingest_key, payload).json()
    for run in PipelineRun.objects.filter(pk__in=body["runs"]):
        stored = json.dumps(run.payload)
        assert "hunter2" not in stored and "abcdefabcdef" not in stored
        assert len(run.payload["alerts"]) == 3


def test_each_run_keeps_all_its_alerts_whatever_the_output_limit(client, ingest_key, settings):
    settings.INGEST_START_RUNS = True
    settings.PIPELINE_OUTPUT_MAX_BYTES = 8 * 1024
    payload = fleet_payload(hosts=4, mounts=20)
    payload["commonAnnotations"]["summary"] = "s" * 5000  # over the envelope's budget
    body = post(client, ingest_key, payload).json()
    for run in PipelineRun.objects.filter(pk__in=body["runs"]).select_related("incident"):
        own = [a for a in payload["alerts"] if a["labels"]["host"] == run.incident.host]
        assert run.payload["alerts"] == own and len(own) == 20
        assert run.payload["receiver"] == payload["receiver"]
        assert run.payload["omitted_keys"] == ["commonAnnotations"]
        assert len(json.dumps(run.payload)) > settings.PIPELINE_OUTPUT_MAX_BYTES


def test_only_incidents_that_start_runs_get_a_slice(client, ingest_key, settings):
    settings.INGEST_START_RUNS = True
    settings.PIPELINE_OUTPUT_MAX_BYTES = 16 * 1024
    first = fleet_payload(hosts=10, mounts=2)
    post(client, ingest_key, first)
    again = fleet_payload(hosts=12, mounts=2)  # hosts 0-9 unchanged, 10 and 11 new
    body = post(client, ingest_key, again).json()
    runs = list(PipelineRun.objects.filter(pk__in=body["runs"]).select_related("incident"))
    assert sorted(run.incident.host for run in runs) == ["web-010", "web-011"]
    for run in runs:
        assert {a["labels"]["host"] for a in run.payload["alerts"]} == {run.incident.host}


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ({"a": "é"}, len('{"a":"é"}'.encode())),  # UTF-8 bytes, not escaped characters
        ([1, 2**70], len(f"[1,{2**70}]")),  # beyond orjson: the json module measures it
        ({"when": object}, len(json.dumps({"when": str(object)}, separators=(",", ":")))),
        (["\ud800"], len('[""]') + 3),  # a lone surrogate: weighed, not a crash
    ],
)
def test_a_payload_part_weighs_its_compact_utf8_json(value, size):
    from apps.orchestration.triggers import json_size

    assert json_size(value) == size
