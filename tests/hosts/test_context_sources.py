"""The web-07 case: an alert about another host never yields this machine's facts."""

import json
import socket

import pytest
from django.test import Client
from django.utils import timezone

from apps.common.models import ApiKey
from apps.orchestration.models import PipelineDefinition, PipelineRun
from apps.orchestration.services import execute_run

pytestmark = pytest.mark.django_db

DEFINITION = {
    "version": "1",
    "nodes": [
        {"id": "ingest", "type": "ingest", "next": "metrics"},
        {
            "id": "metrics",
            "type": "context",
            "config": {"include": ["memory", "disk", "uptime"]},
            "next": "analyze",
        },
        {"id": "analyze", "type": "intelligence", "config": {"provider": "local"}, "next": "log"},
        {"id": "log", "type": "notify", "config": {"driver": "console"}},
    ],
}


def alertmanager_body(instance: str) -> dict:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="DiskFull"}',
        "status": "firing",
        "receiver": "hub",
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://am:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "DiskFull", "instance": instance, "severity": "critical"},
                "annotations": {"summary": "Disk / is 96% full"},
                "startsAt": timezone.now().isoformat(),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prom:9090/graph",
                "fingerprint": "d1sk",
            }
        ],
    }


@pytest.fixture
def triage(settings):
    settings.INGEST_START_RUNS = True
    settings.CELERY_BROKER_URL = ""
    settings.PROMETHEUS_URL = ""
    PipelineDefinition.objects.create(
        name="triage", config=DEFINITION, match={"source": "alertmanager"}
    )
    return ApiKey.create_key("hub", ["ingest"])[1]


def post_alert(key: str, instance: str) -> PipelineRun:
    response = Client().post(
        "/api/alerts/alertmanager/",
        data=json.dumps(alertmanager_body(instance)),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 202, response.content
    (run_id,) = response.json()["runs"]
    PipelineRun.objects.filter(pk=run_id).update(status="PENDING")  # not yet taken by a thread
    execute_run(run_id)
    return PipelineRun.objects.get(pk=run_id)


def stage(run: PipelineRun, node: str) -> dict:
    return run.stages.get(node_id=node).output


def test_an_alert_about_another_host_never_gets_this_machines_facts(triage, settings):
    settings.HOST_NAME = "hub-1"
    settings.HOST_ALIASES = []
    run = post_alert(triage, "web-07:9100")
    assert run.incident.host == "web-07"
    context = stage(run, "metrics")
    assert context["host"] == "web-07"
    assert context["available"] is False
    assert context["reason"] == (
        "no agent report for web-07 in the last 300 s; PROMETHEUS_URL is not set"
    )
    assert context["checks"] == {} and context["checks_run"] == 0
    analysis = stage(run, "analyze")
    text = json.dumps(analysis)
    assert "no host facts" in text.lower()
    assert "rebooted" not in text and "up only" not in text
    message = run.stages.get(node_id="log").output["deliveries"][0]
    assert "web-07:9100" not in json.dumps(message)


def test_this_machines_name_or_alias_gets_local_facts(triage, settings):
    settings.HOST_NAME = "hub-1"
    settings.HOST_ALIASES = ["web-07"]
    context = stage(post_alert(triage, "web-07:9100"), "metrics")
    assert (context["host"], context["available"], context["source"]) == ("web-07", True, "local")
    assert context["checks_run"] == 3
    assert context["host_info"]["hostname"] == socket.gethostname()


def test_a_fresh_agent_snapshot_is_graded_by_the_same_checks(triage, settings):
    from apps.hosts.services import record_snapshot
    from apps.hosts.snapshots import parse_snapshot

    settings.HOST_NAME = "hub-1"
    settings.HOST_ALIASES = []
    body = {
        "observed_at": timezone.now().isoformat(),
        "host": {"os": "Linux 6.1", "uptime_s": 123456},
        "checks": {
            "memory": {
                "status": "ok",
                "message": "memory 91.0% used",
                "readings": {
                    "percent": 91.0,
                    "total_bytes": 8 * 2**30,
                    "available_bytes": int(0.72 * 2**30),
                    "used_bytes": int(7.28 * 2**30),
                },
            }
        },
    }
    record_snapshot("web-07", parse_snapshot(body, {"memory", "disk", "uptime"}))
    context = stage(post_alert(triage, "web-07:9100"), "metrics")
    assert (context["host"], context["source"]) == ("web-07", "agent")
    assert context["age_s"] < 60
    memory = context["checks"]["memory"]
    # graded here with this hub's thresholds (warning at 85%), whatever the agent said
    assert memory["status"] == "warning"
    assert memory["message"].startswith("memory 91.0% used")
    assert context["missing"] == ["disk", "uptime"]  # not invented: the agent did not send them


def test_an_old_snapshot_is_not_used(triage, settings):
    from datetime import timedelta

    from apps.hosts.models import Host

    settings.HOST_NAME = "hub-1"
    settings.HOST_ALIASES = []
    old = timezone.now() - timedelta(seconds=900)
    Host.objects.create(name="web-07", snapshot={"checks": {}}, snapshot_at=old, last_seen=old)
    context = stage(post_alert(triage, "web-07:9100"), "metrics")
    assert context["available"] is False
    assert "no agent report for web-07 in the last 300 s (the latest is 9" in context["reason"]


def test_the_llm_prompt_says_whose_facts_it_has_or_why_none():
    from apps.intelligence.facts import gather
    from apps.intelligence.prompt import build

    missing = {"host": "web-07", "available": False, "reason": "PROMETHEUS_URL is not set"}
    user = build(gather(payload={"host": "web-07"}, context=missing), max_alerts=5, max_chars=9000)[
        1
    ]
    assert "no host facts for web-07 (PROMETHEUS_URL is not set)" in user
    agent = {
        "host": "web-07", "available": True, "source": "agent", "host_info": {"os": "Linux"},
        "checks": {"memory": {"status": "ok", "message": "memory 20% used", "metrics": {}}},
    }  # fmt: skip
    user = build(gather(payload={"host": "web-07"}, context=agent), max_alerts=5, max_chars=9000)[1]
    assert "(measured on web-07 by agent)" in user


def test_a_silent_host_or_a_wrong_clock_is_said_plainly(triage, settings):
    from datetime import timedelta

    from apps.hosts.models import Host

    settings.HOST_NAME, settings.HOST_ALIASES = "hub-1", []
    now = timezone.now()
    host = Host.objects.create(
        name="web-07", snapshot={"checks": {}}, snapshot_at=now - timedelta(seconds=400),
        last_seen=now, last_source="agent",
    )  # fmt: skip
    reason = stage(post_alert(triage, "web-07:9100"), "metrics")["reason"]
    assert "arrived 0 s ago but says it was taken 400 s ago" in reason
    Host.objects.filter(pk=host.pk).update(silent_since=now, snapshot_at=now)
    from apps.hosts.facts import host_facts

    again = host_facts("web-07", ["agent"])
    assert again["available"] is False
    assert "web-07 stopped reporting (silent since" in again["reason"]
