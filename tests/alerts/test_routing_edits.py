"""A webhook runs the definition as it is now: the process keeps one orchestrator per stored
definition version, so an edit, a deactivation or a new default reaches the next webhook."""

import json

import pytest

from apps.orchestration.models import PipelineDefinition, PipelineRun
from tests.conftest import load_payload

pytestmark = pytest.mark.django_db


def transform(line: str) -> dict:
    return {
        "version": "1",
        "nodes": [{"id": "say", "type": "transform", "config": {"mapping": {"line": line}}}],
    }


def post_new_alert(client, key: str, fingerprint: str) -> dict:
    payload = load_payload("alertmanager/v4_firing_two_alerts.json")
    payload["alerts"] = payload["alerts"][:1]
    payload["alerts"][0]["fingerprint"] = fingerprint
    payload["alerts"][0]["labels"]["alertname"] = f"Edit{fingerprint}"
    response = client.post(
        "/api/alerts/alertmanager/",
        data=json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 202, response.content
    return response.json()


def the_run(body: dict) -> PipelineRun:
    (run_id,) = body["runs"]
    return PipelineRun.objects.get(pk=run_id)


def test_an_edited_definition_is_what_the_next_webhook_runs(client, ingest_key, settings):
    settings.INGEST_START_RUNS = True
    definition = PipelineDefinition.objects.create(
        name="edited", match={"source": "alertmanager"}, config=transform("first")
    )
    first = the_run(post_new_alert(client, ingest_key, "e1"))
    assert (first.definition_name, first.definition_version) == ("edited", 1)
    assert first.config_snapshot["nodes"][0]["config"]["mapping"]["line"] == "first"

    definition.config = transform("second")
    definition.save()
    second = the_run(post_new_alert(client, ingest_key, "e2"))
    assert second.definition_version == 2
    assert second.config_snapshot["nodes"][0]["config"]["mapping"]["line"] == "second"

    definition.is_active = False
    definition.save()
    third = the_run(post_new_alert(client, ingest_key, "e3"))
    assert third.definition_id is None and third.kind == "fixed"  # the built-in pipeline


def test_the_default_definition_is_used_once_stored(client, ingest_key, settings):
    settings.INGEST_START_RUNS = True
    settings.WEBHOOK_DEFAULT_DEFINITION = "fallback"
    assert the_run(post_new_alert(client, ingest_key, "d1")).kind == "fixed"
    PipelineDefinition.objects.create(name="fallback", config=transform("default"))
    run = the_run(post_new_alert(client, ingest_key, "d2"))
    assert run.definition_name == "fallback"
    assert run.config_snapshot["nodes"][0]["config"]["mapping"]["line"] == "default"
