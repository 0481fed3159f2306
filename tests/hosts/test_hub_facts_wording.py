"""QA pass on issue 15 (and issue 13's `local` source): when the alert names no host, the
facts come from the hub itself, and the context output, the analysis and the notification
say so in words, rather than pass the hub's numbers off as the alerting host's."""

import json

import pytest
from django.test import Client

from apps.orchestration.models import PipelineRun
from apps.orchestration.services import execute_run
from tests.hosts.test_context_sources import alertmanager_body, stage, triage  # noqa: F401

pytestmark = pytest.mark.django_db

NOTE = "Facts from the hub hub-1 (the alert names no host)"


def post_hostless_alert(key: str) -> PipelineRun:
    body = alertmanager_body("unused")
    del body["alerts"][0]["labels"]["instance"]
    response = Client().post(
        "/api/alerts/alertmanager/", data=json.dumps(body), content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )  # fmt: skip
    assert response.status_code == 202, response.content
    (run_id,) = response.json()["runs"]
    PipelineRun.objects.filter(pk=run_id).update(status="PENDING")
    execute_run(run_id)
    return PipelineRun.objects.get(pk=run_id)


def test_facts_of_the_hub_for_a_hostless_alert_are_said_to_be_the_hubs(triage, settings, capsys):  # noqa: F811
    settings.HOST_NAME = "hub-1"
    settings.HOST_ALIASES = []
    run = post_hostless_alert(triage)
    assert run.incident.host == ""
    context = stage(run, "metrics")
    assert (context["source"], context["available"]) == ("local", True)
    assert context["facts_note"] == NOTE
    analysis = stage(run, "analyze")
    assert analysis["summary"].startswith(NOTE + ".")
    delivery = run.stages.get(node_id="log").output["deliveries"][0]
    assert (delivery["driver"], delivery["status"]) == ("console", "succeeded")
    printed = capsys.readouterr().err  # the console driver's message, as the on-call reads it
    assert f"\n{NOTE}.\n" in printed


def test_facts_of_a_named_host_carry_no_hub_note(triage, settings):  # noqa: F811
    settings.HOST_NAME = "hub-1"
    settings.HOST_ALIASES = ["web-07"]  # named, and it is this machine: local facts, truly its own
    from tests.hosts.test_context_sources import post_alert

    run = post_alert(triage, "web-07:9100")
    context = stage(run, "metrics")
    assert context["source"] == "local" and "facts_note" not in context
    assert "Facts from the hub" not in json.dumps(stage(run, "analyze"))


def test_the_notification_and_the_llm_prompt_carry_the_note():
    from apps.intelligence.facts import gather
    from apps.intelligence.prompt import build

    context = {
        "host": "hub-1", "available": True, "source": "local", "facts_note": NOTE,
        "host_info": {"hostname": "hub-1"},
        "checks": {"memory": {"status": "ok", "message": "memory 20% used", "metrics": {}}},
    }  # fmt: skip
    user = build(gather(payload={"name": "X"}, context=context), max_alerts=5, max_chars=9000)[1]
    assert f"({NOTE})" in user
