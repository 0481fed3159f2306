"""QA of issue 16: a silenced page is a skip, never a failure, even when its channel is not
configured (the quiet check comes before the destination is resolved)."""

import pytest

from apps.alerts import silences
from apps.alerts.models import Alert
from apps.notify.models import Delivery
from apps.orchestration.models import PipelineDefinition, PipelineRun, StageExecution
from apps.orchestration.services import execute_run
from apps.orchestration.triggers import ingest_and_start

pytestmark = pytest.mark.django_db


def test_a_silenced_page_to_an_unconfigured_slack_is_skipped_not_failed(settings):
    settings.SLACK_WEBHOOK_URL = ""
    PipelineDefinition.objects.create(
        name="page-slack", priority=1, is_active=True, match={"source": "alertmanager"},
        config={"version": "1", "nodes": [
            {"id": "ingest", "type": "ingest", "next": "page"},
            {"id": "page", "type": "notify", "config": {"driver": "slack"}},
        ]},
    )  # fmt: skip
    silence = silences.create(["alertname=DiskFull"], comment="disk swap", duration="2h")
    body = {"version": "4", "groupKey": "{}", "status": "firing", "receiver": "x", "alerts": [
        {"status": "firing", "labels": {"alertname": "DiskFull", "instance": "web-07"},
         "annotations": {"summary": "DiskFull on web-07"}, "startsAt": "2026-12-04T10:00:00Z"},
    ]}  # fmt: skip
    triggered = ingest_and_start(body, "alertmanager", "trace-q", dispatch_runs=False)
    for run_id in triggered.run_ids:
        execute_run(run_id)
    assert Alert.objects.get().incident is not None
    stage = StageExecution.objects.get(node_id="page")
    assert stage.status == "SKIPPED"
    assert stage.reason.startswith(f"silenced by silence #{silence.pk} (disk swap")
    assert PipelineRun.objects.get().status == "COMPLETED"
    delivery = Delivery.objects.get()
    assert delivery.status == "silenced"
    assert delivery.last_error == stage.reason
