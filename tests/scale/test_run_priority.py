"""Real processes: two `run_worker`s competing for one queue run each run once; a critical run
queued behind a storm of warnings is taken first, by run_worker and by a Celery worker on Redis."""

import os
import subprocess
import sys

import pytest

from apps.orchestration.models import PipelineDefinition, PipelineRun, StageExecution
from apps.orchestration.priority import CRITICAL, WARNING
from apps.orchestration.services import create_run, dispatch

from .conftest import ROOT, database_url
from .test_celery_workers import TRANSFORM, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def run_worker(tmp_path, name: str, *args: str) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(),
        CELERY_BROKER_URL="",
        PIPELINE_RUNNER="worker",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", *args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def test_two_competing_run_workers_execute_every_run_once(tmp_path):
    definition = PipelineDefinition.objects.create(name="compete", config=TRANSFORM)
    runs = [create_run(definition, {"server": f"web-{i}"}, source="api") for i in range(300)]
    procs = [run_worker(tmp_path, name, "--once", "--threads", "3") for name in ("r1", "r2")]
    for proc in procs:
        assert proc.wait(timeout=240) == 0, (tmp_path / "r1.log").read_text()
    assert PipelineRun.objects.exclude(status="COMPLETED").count() == 0
    assert StageExecution.objects.count() == 900  # three nodes each, none twice
    assert set(StageExecution.objects.values_list("attempts", flat=True)) == {1}
    assert PipelineRun.objects.filter(recoveries__gt=0).count() == 0
    pids = {claimed.split(":")[1].split("/")[0] for claimed in
            PipelineRun.objects.values_list("claimed_by", flat=True)}  # fmt: skip
    assert pids == {str(proc.pid) for proc in procs}  # both really competed
    assert PipelineRun.objects.get(pk=runs[9].pk).stages.get(node_id="c").output == {
        "line": "web-9 ok"
    }


def queue_storm(definition) -> tuple[list[PipelineRun], PipelineRun]:
    warnings = [
        create_run(definition, {"server": f"w-{i}"}, source="api", priority=WARNING)
        for i in range(60)
    ]
    critical = create_run(definition, {"server": "db-1"}, source="api", priority=CRITICAL)
    return warnings, critical


def started_before(run: PipelineRun, others: list[PipelineRun]) -> int:
    run.refresh_from_db()
    starts = PipelineRun.objects.filter(pk__in=[o.pk for o in others]).values_list(
        "started_at", flat=True
    )
    return sum(1 for start in starts if start > run.started_at)


def test_run_worker_takes_a_critical_run_sent_last_first(tmp_path):
    definition = PipelineDefinition.objects.create(name="storm", config=TRANSFORM)
    warnings, critical = queue_storm(definition)
    proc = run_worker(tmp_path, "r1", "--once", "--threads", "1")
    assert proc.wait(timeout=120) == 0, (tmp_path / "r1.log").read_text()
    assert started_before(critical, warnings) == len(warnings)


def test_celery_worker_takes_a_critical_run_sent_last_first(workers):
    definition = PipelineDefinition.objects.create(name="storm", config=TRANSFORM)
    warnings, critical = queue_storm(definition)
    # All queued before a worker starts; the critical sent after the warnings' messages (one
    # dispatch would put it first in its batch, which would prove nothing about the broker).
    dispatch([run.pk for run in warnings])
    dispatch([critical.pk])
    group = workers()
    group.start("w1", concurrency=1)
    wait_until(
        lambda: PipelineRun.objects.filter(status="COMPLETED").count() == len(warnings) + 1,
        180,
        "every run completed",
    )
    # One message may already be reserved when the worker starts taking; the critical run is
    # taken first or second, never behind the storm.
    assert started_before(critical, warnings) >= len(warnings) - 1


def test_a_webhooks_runs_go_as_few_messages_and_each_executes_once_critical_first(workers):
    """Was: one broker round trip per run (0.6 ms of a webhook's CPU each)."""
    import redis

    from apps.common.metrics import priority_lists
    from apps.orchestration.recovery import queued_run_ids

    from .conftest import REDIS_URL

    definition = PipelineDefinition.objects.create(name="batch", config=TRANSFORM)
    warnings = [
        create_run(definition, {"server": f"w-{i}"}, source="api", priority=WARNING)
        for i in range(12)
    ]
    critical = create_run(definition, {"server": "db-1"}, source="api", priority=CRITICAL)
    everything = [*warnings, critical]
    dispatch([run.pk for run in warnings], priorities={r.pk: r.priority for r in warnings})
    dispatch([critical.pk], priorities={critical.pk: critical.priority})  # sent last
    client = redis.Redis.from_url(REDIS_URL)
    messages = sum(client.llen(key) for key in priority_lists("pipelines"))
    assert messages == 3  # the warnings as 10 + 2, the critical alone
    assert queued_run_ids() == {run.pk for run in everything}  # the sweep sees every run
    group = workers()
    group.start("w1", concurrency=2)
    wait_until(
        lambda: PipelineRun.objects.filter(status="COMPLETED").count() == len(everything),
        180,
        "every run completed",
    )
    assert StageExecution.objects.count() == 3 * len(everything)  # none executed twice
    # Two processes start at once: the other may take the second message and start its first
    # warning as the critical starts; never more than that one before it.
    assert started_before(critical, warnings) >= len(warnings) - 1
