"""A run that cannot be stored costs only its own incident: the webhook's other runs are kept,
its alerts are stored, and the answer names the incident without a run."""

import copy
import json

import pytest
from django.db import DataError

from apps.alerts.models import Alert, Incident
from apps.orchestration import triggers
from apps.orchestration.models import PipelineRun
from tests.conftest import load_payload

pytestmark = pytest.mark.django_db


def three_hosts() -> dict:
    payload = load_payload("alertmanager/v4_firing_two_alerts.json")
    template = payload["alerts"][0]
    payload["alerts"] = []
    for host in ("web-1", "web-2", "web-3"):
        alert = copy.deepcopy(template)
        alert["labels"]["host"] = host
        alert["fingerprint"] = f"fp-{host}"
        payload["alerts"].append(alert)
    return payload


def test_one_failing_run_is_named_and_the_other_runs_are_kept(
    client, ingest_key, settings, monkeypatch
):
    settings.INGEST_START_RUNS = True
    real_insert = triggers.rows.insert_values

    def insert_values(model, rows):
        hosts = Incident.objects.filter(pk__in=[row["incident_id"] for row in rows])
        if model is PipelineRun and "web-2" in {incident.host for incident in hosts}:
            raise DataError("value too long for type character varying(64)")
        return real_insert(model, rows)

    monkeypatch.setattr(triggers.rows, "insert_values", insert_values)
    response = client.post(
        "/api/alerts/alertmanager/",
        data=json.dumps(three_hosts()),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {ingest_key}",
    )
    assert response.status_code == 202
    body = response.json()
    assert Alert.objects.count() == 3
    runs = PipelineRun.objects.select_related("incident")
    assert sorted(run.incident.host for run in runs) == ["web-1", "web-3"]
    assert sorted(body["runs"]) == sorted(run.pk for run in runs)
    (error,) = body["run_errors"]
    failed = next(pk for pk in body["incidents"] if pk not in {r.incident_id for r in runs})
    assert error.startswith(f"incident {failed} (new): ") and "too long" in error


def test_a_webhook_writes_without_savepoints(settings):
    """The webhook's statements go in its one transaction: inside this test's transaction that
    is one savepoint, none per step (four statements a webhook on PostgreSQL)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.INGEST_START_RUNS = True
    with CaptureQueriesContext(connection) as captured:
        triggered = triggers.ingest_and_start(
            three_hosts(), "alertmanager", "t", dispatch_runs=False
        )
    savepoints = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) == 1
    assert len(triggered.run_ids) == 3 and not triggered.run_errors
