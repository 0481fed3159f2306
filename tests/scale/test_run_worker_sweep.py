"""A single machine without a broker or cron: `run_worker` also does the periodic sweep, so a
host that stopped reporting pages, and its run executes, with nothing else running."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.alerts.models import Incident
from apps.hosts.models import Host
from apps.orchestration.models import PipelineRun

from .conftest import wait_until
from .test_run_priority import run_worker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_run_worker_sweeps_a_silent_host_into_an_incident_and_runs_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_SWEEP_EVERY_S", "1")
    long_ago = timezone.now() - timedelta(hours=2)
    Host.objects.create(name="web-silent", last_source="agent", first_seen=long_ago,
                        last_seen=long_ago, snapshot_at=long_ago)  # fmt: skip
    worker = run_worker(tmp_path, "sweeper", "--threads", "1")
    try:
        wait_until(
            lambda: Incident.objects.filter(host="web-silent").exists(),
            30,
            "the sweep of run_worker to open the stopped-reporting incident",
        )
        incident = Incident.objects.get(host="web-silent")
        assert "stopped reporting" in incident.title
        wait_until(
            lambda: PipelineRun.objects.filter(incident=incident, status="COMPLETED").exists(),
            60,
            "run_worker to execute the incident's run",
        )
        assert Host.objects.get(name="web-silent").silent_since is not None
    finally:
        worker.terminate()
        worker.wait(30)
    assert PipelineRun.objects.filter(incident=incident).count() == 1
