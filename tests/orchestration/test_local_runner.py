"""Without a broker: servers only store PENDING runs; run_worker executes them, critical first."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.orchestration.local_runner import LocalRunner, take_next
from apps.orchestration.models import PipelineDefinition, PipelineRun, RunStatus
from apps.orchestration.priority import CRITICAL, DEFAULT, INFO, WARNING, run_priority
from apps.orchestration.services import create_run, dispatch

pytestmark = pytest.mark.django_db

TRANSFORM = {
    "nodes": [
        {"id": "a", "type": "transform", "config": {"mapping": {"s": "payload.server"}}},
    ]
}


@pytest.fixture
def definition():
    return PipelineDefinition.objects.create(name="runner", config=TRANSFORM)


def test_priorities_put_critical_first_and_resolves_after_their_firing_runs():
    assert run_priority("critical", "new") == CRITICAL == 0
    assert run_priority("critical", "resolved") < run_priority("warning", "new") == WARNING
    assert run_priority("warning", "resolved") < run_priority("info", "new") == INFO
    assert run_priority("info", "resolved") <= 9
    assert run_priority("unknown", "new") == WARNING
    assert run_priority(None) == INFO


@pytest.mark.django_db(transaction=True)  # the runner's threads have their own connections
def test_the_runner_takes_the_critical_run_queued_last_first(definition, settings):
    warnings = [
        create_run(definition, {"server": f"w-{n}"}, source="api", priority=WARNING)
        for n in range(5)
    ]
    manual = create_run(definition, {"server": "cli"}, source="cli")
    critical = create_run(definition, {"server": "db-1"}, source="api", priority=CRITICAL)
    order: list[int] = []
    stats = LocalRunner(1, once=True, on_run=lambda run_id, *_: order.append(run_id)).run()
    assert order == [critical.pk] + [run.pk for run in warnings] + [manual.pk]
    assert manual.priority == DEFAULT
    assert (stats.completed, stats.failed) == (7, 0)
    assert set(PipelineRun.objects.values_list("status", flat=True)) == {RunStatus.COMPLETED}
    assert PipelineRun.objects.get(pk=critical.pk).claimed_by.startswith("run_worker@")


def test_a_run_already_taken_is_not_taken_again(definition):
    run = create_run(definition, {"server": "x"}, source="api")
    assert take_next("first") == run.pk
    assert take_next("second") is None
    assert PipelineRun.objects.get(pk=run.pk).claimed_by == "first"


def test_dispatch_in_worker_mode_leaves_server_runs_pending_and_finishes_cli_runs(
    definition, settings, django_capture_on_commit_callbacks
):
    settings.PIPELINE_RUNNER = "worker"
    served = create_run(definition, {"server": "a"}, source="api")
    command = create_run(definition, {"server": "b"}, source="cli")
    with django_capture_on_commit_callbacks(execute=True):
        dispatch([served.pk])
        dispatch([command.pk], background=False)  # a CLI that must finish before it exits
    served.refresh_from_db()
    command.refresh_from_db()
    assert (served.status, command.status) == (RunStatus.PENDING, RunStatus.COMPLETED)


@pytest.mark.django_db(transaction=True)
def test_run_worker_command_once_reports_what_it_ran(definition):
    runs = [create_run(definition, {"server": f"s{n}"}, source="api") for n in range(3)]
    out = StringIO()
    call_command("run_worker", "--once", "--threads", "1", "-v", "2", stdout=out)
    text = out.getvalue()
    assert "3 run(s) pending" in text
    assert all(f"run #{run.pk} " in text for run in runs)
    assert "3 completed, 0 failed" in text


def test_run_worker_refuses_a_silly_thread_count():
    with pytest.raises(CommandError, match="--threads must be between 1 and 64, got 0"):
        call_command("run_worker", "--threads", "0", stdout=StringIO())


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_runner_died_is_taken_over_once_its_heartbeat_is_stale(definition, settings):
    from datetime import timedelta

    from django.utils import timezone

    stale = create_run(definition, {"server": "s"}, source="api")
    fresh = create_run(definition, {"server": "f"}, source="api")
    PipelineRun.objects.filter(pk=stale.pk).update(
        status=RunStatus.RUNNING,
        claimed_by="run_worker@dead:1/1",
        heartbeat_at=timezone.now() - timedelta(seconds=settings.PIPELINE_STALE_AFTER_S + 5),
    )
    PipelineRun.objects.filter(pk=fresh.pk).update(
        status=RunStatus.RUNNING, claimed_by="run_worker@alive:2/1", heartbeat_at=timezone.now()
    )
    stats = LocalRunner(1, once=True).run()
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.status, stale.recoveries) == (RunStatus.COMPLETED, 1)
    assert stale.claimed_by.startswith("run_worker@") and "dead" not in stale.claimed_by
    assert (fresh.status, fresh.claimed_by) == (RunStatus.RUNNING, "run_worker@alive:2/1")
    assert stats.completed == 1
