"""Runs whose worker died: takeover, sweep, resume, and the cap on recoveries."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.orchestration.models import PipelineDefinition, PipelineRun
from apps.orchestration.recovery import sweep_runs
from apps.orchestration.services import claim_run, create_run

pytestmark = pytest.mark.django_db

CONFIG = {
    "nodes": [{"id": "a", "type": "transform", "config": {"mapping": {"s": "payload.server"}}}]
}


def stuck_run(recoveries: int = 0, seconds_ago: int = 120) -> PipelineRun:
    definition, _ = PipelineDefinition.objects.get_or_create(
        name="sweep", defaults={"config": CONFIG}
    )
    run = create_run(definition, {"server": "web-01"}, source="api")
    PipelineRun.objects.filter(pk=run.pk).update(
        status="RUNNING",
        claimed_by="celery@dead-host",
        heartbeat_at=timezone.now() - timedelta(seconds=seconds_ago),
        started_at=timezone.now() - timedelta(seconds=seconds_ago),
        recoveries=recoveries,
    )
    return run


def test_live_run_is_not_taken_over_but_a_stale_one_is():
    live = stuck_run(seconds_ago=1)
    assert claim_run(live.pk, "w2") is False
    stale = stuck_run(seconds_ago=120)
    assert claim_run(stale.pk, "w2") is True
    stale.refresh_from_db()
    assert stale.claimed_by == "w2" and stale.recoveries == 1


def test_takeover_stops_at_the_recovery_limit(settings):
    settings.PIPELINE_MAX_RECOVERIES = 2
    run = stuck_run(recoveries=2)
    assert claim_run(run.pk, "w2") is False


def test_sweep_takes_over_stale_runs_and_finishes_them(django_capture_on_commit_callbacks):
    run = stuck_run()
    fresh = stuck_run(seconds_ago=1)
    with django_capture_on_commit_callbacks(execute=True):
        result = sweep_runs(requeue=True, background=False)
    assert result["failed"] == [] and result["requeued"] == [run.pk]
    run.refresh_from_db()
    fresh.refresh_from_db()
    assert run.status == "COMPLETED" and run.recoveries == 1  # taken over inline (no broker)
    assert fresh.status == "RUNNING"


def test_sweep_leaves_a_run_failed_after_too_many_recoveries(settings):
    settings.PIPELINE_MAX_RECOVERIES = 1
    run = stuck_run(recoveries=1)
    result = sweep_runs(requeue=True)
    assert result["failed"] == [run.pk] and result["requeued"] == []
    run.refresh_from_db()
    assert run.status == "FAILED" and "not recovered again" in run.error


def test_sweep_dry_run_changes_nothing_and_command_reports():
    run = stuck_run()
    out = StringIO()
    call_command("sweep_runs", "--dry-run", stdout=out)
    assert "would fail: 1" in out.getvalue()
    run.refresh_from_db()
    assert run.status == "RUNNING"
    call_command("sweep_runs", stdout=out)
    run.refresh_from_db()
    assert run.status == "FAILED" and "worker lost" in run.error


def test_a_message_for_a_run_this_database_lacks_is_one_log_line(caplog):
    """Two deployments on one broker database take each other's messages: was a traceback per
    message."""
    from apps.orchestration.tasks import execute_run_task, execute_runs_task

    assert execute_run_task.apply((987654,)).get() == "MISSING"
    assert execute_runs_task.apply(([987655],)).get() == "MISSING"
    lines = [
        r.getMessage() for r in caplog.records if "not in this worker's database" in r.getMessage()
    ]
    assert len(lines) == 2 and "run 987654 is not in this worker's database" in lines[0]
    assert not any(r.exc_info for r in caplog.records)
