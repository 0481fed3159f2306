"""Runs on real Celery workers over the real Redis: all complete exactly once, and a run whose
worker is SIGKILLed is redelivered and finishes once with no double notification."""

import time

import pytest

from apps.notify.models import Delivery
from apps.orchestration.models import PipelineDefinition, PipelineRun, StageExecution
from apps.orchestration.services import create_run, dispatch, execute_run

from .conftest import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TRANSFORM = {
    "nodes": [
        {
            "id": "a",
            "type": "transform",
            "config": {"mapping": {"s": "payload.server"}},
            "next": "b",
        },
        {
            "id": "b",
            "type": "transform",
            "config": {"mapping": {"s": "nodes.a.output.s"}},
            "next": "c",
        },
        {
            "id": "c",
            "type": "transform",
            "config": {"mapping": {"line": "{{ nodes.b.output.s }} ok"}},
        },
    ]
}


def test_200_runs_complete_exactly_once(workers):
    definition = PipelineDefinition.objects.create(name="scale", config=TRANSFORM)
    group = workers()
    group.start("w1")
    group.start("w2")
    runs = [create_run(definition, {"server": f"web-{i}"}, source="api") for i in range(200)]
    dispatch([run.pk for run in runs])
    wait_until(
        lambda: PipelineRun.objects.filter(status="COMPLETED").count() == 200,
        180,
        "200 completed runs",
    )
    assert PipelineRun.objects.exclude(status="COMPLETED").count() == 0
    assert StageExecution.objects.count() == 600
    assert set(StageExecution.objects.values_list("attempts", flat=True)) == {1}
    run = PipelineRun.objects.get(pk=runs[7].pk)
    assert run.stages.get(node_id="c").output == {"line": "web-7 ok"}
    assert run.claimed_by.split("@")[0] in {"w1", "w2"}  # the worker's node name
    # A redelivered task for a finished run does not run it again.
    finished = run.finished_at
    assert execute_run(run.pk)["status"] == "COMPLETED"
    run.refresh_from_db()
    assert run.finished_at == finished and StageExecution.objects.count() == 600


def test_killed_worker_run_is_redelivered_and_finishes_once(workers, http_sink):
    # Two notify nodes: `first` answers at once, `second` is slow so the worker dies inside it.
    http_sink.delay_s = 0
    config = {
        "nodes": [
            {
                "id": "first",
                "type": "notify",
                "config": {"driver": "generic", "url": f"{http_sink.url}/first"},
                "next": "second",
            },
            {
                "id": "second",
                "type": "notify",
                "config": {"driver": "generic", "url": f"{http_sink.url}/second"},
            },
        ]
    }
    definition = PipelineDefinition.objects.create(name="crash", config=config)
    group = workers(
        CELERY_VISIBILITY_TIMEOUT_S=5,
        PIPELINE_HEARTBEAT_S=0.5,
        PIPELINE_STALE_AFTER_S=2,
        OUTBOUND_TIMEOUT_S=20,
    )
    first_worker = group.start("doomed", concurrency=1)
    http_sink.delay_s = 6  # every request now takes 6 s
    run = create_run(definition, {"server": "web-01"}, source="api")
    dispatch([run.pk])
    wait_until(
        lambda: any(r.path == "/second" for r in http_sink.requests),
        30,
        "the second notification to be in flight",
    )
    group.kill(first_worker)
    assert PipelineRun.objects.get(pk=run.pk).status == "RUNNING"
    http_sink.delay_s = 0
    started = time.monotonic()
    group.start("rescuer", concurrency=1)
    wait_until(
        lambda: PipelineRun.objects.get(pk=run.pk).status == "COMPLETED",
        90,
        "the run to be finished by another worker",
    )
    assert time.monotonic() - started < 90
    run.refresh_from_db()
    assert run.claimed_by.startswith("rescuer@") and not run.error
    paths = [r.path for r in http_sink.requests]
    assert paths.count("/first") == 1  # delivered before the crash: never sent again
    assert paths.count("/second") >= 1  # in flight at the crash: at-least-once
    first = Delivery.objects.get(pipeline_run=run, node_id="first")
    assert first.status == "succeeded"
    assert run.stages.get(node_id="first").attempts == 1


def test_failed_delivery_resent_through_the_notifications_queue(
    workers, http_sink, settings, monkeypatch
):
    from io import StringIO

    from django.core.management import call_command

    from apps.notify.services import notify

    settings.NOTIFY_MAX_ATTEMPTS = 1
    http_sink.respond(500, "down")
    monkeypatch.setenv("SINK_URL", f"{http_sink.url}/n")
    output = notify(
        config={"driver": "generic", "url": "env:SINK_URL"},
        message_context={"payload": {"server": "web-01"}},
    )
    delivery = Delivery.objects.get()
    assert output["channels_failed"] == 1 and delivery.status == "failed"
    assert delivery.target_config == {"url": "env:SINK_URL"}, delivery.target_config
    http_sink.respond(200, "ok")
    group = workers(SINK_URL=f"{http_sink.url}/n")
    group.start("notifier", concurrency=1)
    out = StringIO()
    call_command("deliveries", "--retry", str(delivery.pk), "--queue", stdout=out)
    assert "queued" in out.getvalue()
    wait_until(
        lambda: Delivery.objects.get(pk=delivery.pk).status == "succeeded", 60, "the queued re-send"
    )
    assert len(http_sink.requests) == 2
