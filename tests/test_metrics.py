"""/metrics: Prometheus text, the record_* functions, queue depth, token, multiprocess mode."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from django.test import Client
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from apps.common import metrics
from apps.orchestration.models import PipelineDefinition, PipelineRun
from apps.orchestration.services import create_run

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = "redis://127.0.0.1:6379/15"  # a database of its own: other tests use 0


def scrape(client: Client | None = None, **headers: str) -> dict[tuple[str, tuple], float]:
    response = (client or Client()).get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.django_db
def test_recorded_metrics_are_exposed():
    definition = PipelineDefinition(name="metrics-test", config={})
    run = PipelineRun(definition_name=definition.name, status="COMPLETED", duration_ms=1500)
    before = value("pipeline_runs_total", definition="metrics-test", status="COMPLETED")

    metrics.record_run(run)
    metrics.record_node("context", "SUCCEEDED", 0.2)
    metrics.record_alerts("grafana", 3)
    metrics.record_delivery("slack", "succeeded")

    samples = scrape()
    key = ("pipeline_runs_total", (("definition", "metrics-test"), ("status", "COMPLETED")))
    assert samples[key] == before + 1
    assert samples[("pipeline_run_duration_seconds_count", (("definition", "metrics-test"),))] >= 1
    node_le = (
        "pipeline_node_duration_seconds_bucket",
        (("le", "0.25"), ("node_type", "context"), ("status", "SUCCEEDED")),
    )
    assert samples[node_le] >= 1
    assert samples[("alerts_ingested_total", (("source", "grafana"),))] >= 3
    assert (
        samples[("notify_deliveries_total", (("driver", "slack"), ("outcome", "succeeded")))] >= 1
    )


def test_record_functions_never_raise():
    metrics.record_run(object())
    metrics.record_node("context", "FAILED", "not a number")  # type: ignore[arg-type]
    metrics.record_alerts("grafana", 0)
    metrics.record_delivery("", "")
    assert value("notify_deliveries_total", driver="unknown", outcome="unknown") >= 1


def test_config_file_runs_share_one_label():
    run = PipelineRun(config_path="/tmp/some/file.json", kind="config")
    assert metrics.run_label(run) == "(config file)"
    assert metrics.run_label(PipelineRun(kind="fixed")) == "fixed"


@pytest.mark.django_db
def test_queue_depth_counts_pending_runs():
    definition = PipelineDefinition.objects.create(
        name="q",
        config={
            "nodes": [{"id": "a", "type": "transform", "config": {"mapping": {"h": "payload.h"}}}]
        },
    )
    for _ in range(3):
        create_run(definition, {"h": 1}, source="api")
    assert scrape()[("pipeline_queue_depth", (("queue", "pending_runs"),))] == 3


def test_queue_names_come_from_the_celery_config():
    assert {"pipelines", "notifications"} <= set(metrics.celery_queue_names())


@pytest.fixture
def redis_queues(settings, monkeypatch):
    """Two queues with names of their own, so no real worker's queue is ever touched."""
    names = [f"metrics-test-{uuid.uuid4().hex}-{n}" for n in ("a", "b")]
    monkeypatch.setattr(metrics, "celery_queue_names", lambda: names)
    settings.CELERY_BROKER_URL = REDIS_URL
    client = redis.Redis.from_url(REDIS_URL)
    yield client, names
    client.delete(*names, *(f"{name}\x06\x16{step}" for name in names for step in range(10)))
    client.close()


@pytest.mark.django_db
def test_queue_depth_reads_the_redis_queues(redis_queues):
    client, (first, second) = redis_queues
    client.rpush(first, "a", "b", "c")
    client.rpush(second, "x")
    client.rpush(f"{first}\x06\x163", "warning-run")  # kombu's list for priority step 3
    samples = scrape()
    assert samples[("pipeline_queue_depth", (("queue", f"celery:{first}"),))] == 4
    assert samples[("pipeline_queue_depth", (("queue", f"celery:{second}"),))] == 1
    assert samples[("pipeline_broker_up", ())] == 1


@pytest.mark.django_db
def test_unreachable_broker_is_reported_not_fatal(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    samples = scrape()
    assert samples[("pipeline_broker_up", ())] == 0
    assert ("pipeline_queue_depth", (("queue", "pending_runs"),)) in samples


@pytest.mark.django_db
def test_token_is_required_when_set(settings):
    settings.METRICS_TOKEN = "s3cret-tøken"
    client = Client()
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "s3cret-tøken"},
        {"Authorization": "Basic s3cret-tøken"},
    ):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert b"pipeline_" not in response.content
    assert scrape(client, Authorization="Bearer s3cret-tøken")


@pytest.mark.django_db
def test_open_without_token_and_get_only(settings):
    settings.METRICS_TOKEN = ""
    assert scrape()
    assert Client().post("/metrics").status_code == 405


RECORD = """
import django
django.setup()
from apps.common import metrics
metrics.record_alerts("alertmanager", {count})
metrics.record_delivery("email", "failed")
metrics.record_node("notify", "FAILED", 0.5)
"""


@pytest.mark.django_db
def test_multiprocess_mode_sums_every_process(tmp_path, monkeypatch):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    for count in (2, 5):  # two worker processes, each writing its own files
        subprocess.run(
            [sys.executable, "-c", RECORD.format(count=count)],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=60,
            capture_output=True,
        )
    assert list(tmp_path.glob("counter_*.db")), "the workers wrote no metric files"

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    samples = scrape()
    assert samples[("alerts_ingested_total", (("source", "alertmanager"),))] == 7
    assert samples[("notify_deliveries_total", (("driver", "email"), ("outcome", "failed")))] == 2
    assert (
        samples[
            (
                "pipeline_node_duration_seconds_count",
                (("node_type", "notify"), ("status", "FAILED")),
            )
        ]
        == 2
    )
    # Scrape-time gauges are still there in multiprocess mode.
    assert ("pipeline_queue_depth", (("queue", "pending_runs"),)) in samples


@pytest.mark.django_db
def test_metrics_without_token_is_for_loopback_clients_only(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    far = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert far.status_code == 403 and b"METRICS_TOKEN" in far.content
