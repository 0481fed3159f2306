"""Fault injection (issue 14): each test reproduces one defect with the real part failing.

Workers are killed with SIGKILL and run with the shipped defaults; the broker is a closed
loopback port or a loopback server that accepts and never answers; the disk is a 1 MB tmpfs
(mounted when this process may, else skipped) and the database is unreachable by name.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.utils import timezone

from apps.common.metrics import priority_lists
from apps.common.models import ApiKey
from apps.notify.delivery import AFTER_INTERRUPTION, INTERRUPTED
from apps.notify.models import Delivery
from apps.orchestration.models import PipelineDefinition, PipelineRun
from apps.orchestration.recovery import queued_run_ids, sweep_runs
from apps.orchestration.services import create_run, dispatch

from .conftest import REDIS_URL, ROOT, database_url, reset_connections, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SERVER = json.dumps({"server": "web-01"})
TRANSFORM = {
    "nodes": [{"id": "a", "type": "transform", "config": {"mapping": {"s": "payload.server"}}}]
}


def definition(name: str = "faults", config: dict | None = None) -> PipelineDefinition:
    return PipelineDefinition.objects.get_or_create(
        name=name, defaults={"config": config or TRANSFORM}
    )[0]


def backdate(run: PipelineRun, seconds: int = 120, **fields) -> None:
    """As if the run was created (and, for a RUNNING one, last heard of) `seconds` ago."""
    past = timezone.now() - timedelta(seconds=seconds)
    PipelineRun.objects.filter(pk=run.pk).update(created_at=past, **fields)


def stuck(run: PipelineRun, seconds: int = 120) -> None:
    past = timezone.now() - timedelta(seconds=seconds)
    backdate(run, seconds, status="RUNNING", heartbeat_at=past, claimed_by="gone@host")


# --- recovery on the shipped defaults ----------------------------------------------------


def test_killed_worker_run_finishes_within_visibility_timeout_on_defaults(workers, http_sink):
    """Was ~92 s (kombu scanned unacked messages every 10 x 10 s); the claim named the host,
    not the worker; the resent delivery said attempts=1 and lost its interruption note."""
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
    group = workers()  # the shipped defaults: no timing variable set
    for name in ("CELERY_VISIBILITY_TIMEOUT_S", "CELERY_RESTORE_EVERY_S", "PIPELINE_STALE_AFTER_S"):
        assert name not in group.env(), f"{name} is set: this test is about the defaults"
    doomed = group.start("doomed", concurrency=1)
    http_sink.delay_s = 6
    run = create_run(definition("crash", config), {"server": "web-01"}, source="api")
    dispatched = time.monotonic()
    dispatch([run.pk])
    wait_until(
        lambda: any(r.path == "/second" for r in http_sink.requests), 30, "/second in flight"
    )
    group.kill(doomed)
    http_sink.delay_s = 0
    group.start("rescuer", concurrency=1)
    bound = django_settings.CELERY_VISIBILITY_TIMEOUT_S + django_settings.CELERY_RESTORE_EVERY_S
    wait_until(
        lambda: PipelineRun.objects.get(pk=run.pk).status == "COMPLETED",
        bound + 30,
        "the run to be finished by the rescuer",
    )
    took = time.monotonic() - dispatched
    assert took < bound + 10, f"finished {took:.0f}s after dispatch; bound {bound}s + 10 s"
    run.refresh_from_db()
    assert run.claimed_by.startswith("rescuer@"), run.claimed_by
    assert run.recoveries == 1
    second = Delivery.objects.get(pipeline_run=run, node_id="second")
    assert second.status == "succeeded"
    assert second.attempts == 2  # posted twice: once before the kill, once after
    assert second.last_error == AFTER_INTERRUPTION
    assert [r.path for r in http_sink.requests].count("/first") == 1
    print(f"\nkilled worker's run finished {took:.1f}s after dispatch (bound {bound}s)")


def test_a_worker_recovers_a_run_whose_message_was_lost_without_beat(workers):
    """A run stored while the broker was down (no message) was only ever started by beat or
    cron; now every worker sweeps when it starts."""
    run = create_run(definition(), {"server": "web-02"}, source="api")  # never dispatched
    backdate(run, 120)
    group = workers()
    started = time.monotonic()
    group.start("recoverer", concurrency=1)
    wait_until(lambda: PipelineRun.objects.get(pk=run.pk).status == "COMPLETED", 30, "recovery")
    assert time.monotonic() - started < 30
    assert PipelineRun.objects.get(pk=run.pk).claimed_by.startswith("recoverer@")


# --- the sweep: a run with a message is left to it; only lost ones are re-sent -------------


def waiting(client) -> int:
    """Messages in the `pipelines` queue, over its priority lists."""
    return sum(client.llen(key) for key in priority_lists("pipelines"))


def test_sweep_never_fails_a_run_its_message_can_still_finish(celery_on_redis):
    import redis

    from apps.orchestration.tasks import execute_run_task

    queued = create_run(definition(), {"server": "a"}, source="api")
    stuck(queued)
    execute_run_task.delay(queued.pk)  # its message waits in the queue (no worker here)
    lost = create_run(definition(), {"server": "b"}, source="api")
    stuck(lost)
    sending = Delivery.objects.create(
        idempotency_key="k-lost", pipeline_run=lost, node_id="n", status="sending", attempts=1
    )
    result = sweep_runs(requeue=False)
    assert result["awaiting_redelivery"] == [queued.pk]
    assert result["failed"] == [lost.pk]
    assert PipelineRun.objects.get(pk=queued.pk).status == "RUNNING"
    failed = PipelineRun.objects.get(pk=lost.pk)
    assert failed.status == "FAILED" and "message is lost" in failed.error
    sending.refresh_from_db()  # no delivery of a FAILED run stays `sending` forever
    assert sending.status == "failed" and sending.last_error == INTERRUPTED

    # Delivered to a worker that died: the message sits unacknowledged; still left to it.
    client = redis.Redis.from_url(REDIS_URL)
    raw = next(filter(None, (client.rpop(key) for key in priority_lists("pipelines"))))
    client.hset("unacked", "tag-1", json.dumps([json.loads(raw), "", "pipelines"]))
    assert queued_run_ids() == {queued.pk}
    assert sweep_runs(requeue=False)["awaiting_redelivery"] == [queued.pk]
    assert PipelineRun.objects.get(pk=queued.pk).status == "RUNNING"


def test_sweep_redispatches_only_lost_pending_runs_not_a_backlog(celery_on_redis):
    """Was: every PENDING run older than the stale limit was sent again (4,243 messages for
    4,000 runs)."""
    import redis

    backlog = [create_run(definition(), {"server": f"b{i}"}, source="api") for i in range(30)]
    dispatch([run.pk for run in backlog])
    lost = create_run(definition(), {"server": "lost"}, source="api")  # its publish failed
    for run in [*backlog, lost]:
        backdate(run, 120)
    client = redis.Redis.from_url(REDIS_URL)
    assert waiting(client) == 3  # one priority: execute_runs messages of up to 10 runs
    assert queued_run_ids() == {run.pk for run in backlog}
    result = sweep_runs(requeue=True)
    assert result["pending_redispatched"] == [lost.pk]
    assert sorted(result["awaiting_redelivery"]) == sorted(run.pk for run in backlog)
    assert waiting(client) == 4
    assert queued_run_ids() == {run.pk for run in [*backlog, lost]}
    assert sweep_runs(requeue=True)["pending_redispatched"] == []  # now it has a message


# --- broker down: fast answers, runs kept -------------------------------------------------


@pytest.fixture
def silent_port():
    """A loopback server that accepts, reads whatever is sent, and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)
            threading.Thread(target=drain, args=(conn,), daemon=True).start()

    def drain(conn: socket.socket) -> None:
        try:
            while conn.recv(4096):
                pass
        except OSError:
            pass

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for conn in held:
        conn.close()


def closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


@pytest.fixture(params=["refused", "silent"])
def dead_broker(request, settings):
    """CELERY_BROKER_URL at a closed loopback port, or at a server that never answers."""
    from config.celery import app

    port = closed_port() if request.param == "refused" else request.getfixturevalue("silent_port")
    url = f"redis://127.0.0.1:{port}/7"
    settings.CELERY_BROKER_URL = url
    previous = {k: app.conf.get(k) for k in ("broker_url", "result_backend", "task_always_eager")}
    app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    reset_connections(app)
    yield url
    app.conf.update(previous)
    reset_connections(app)


def test_webhook_answers_within_5s_and_keeps_the_run_when_the_broker_is_down(dead_broker, settings):
    """Was ~19.5 s per webhook (publish retries and the result store's reconnect loop)."""
    settings.INGEST_START_RUNS = True
    key = ApiKey.create_key("faults-ingest", ["ingest"])[1]
    started = time.monotonic()
    response = Client().post(
        "/api/alerts/generic/",
        data=json.dumps({"name": "DiskFull", "host": "web-01", "severity": "critical"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    took = time.monotonic() - started
    assert response.status_code == 202, response.content
    assert took < 5, f"webhook took {took:.1f}s with the broker down"
    run_ids = response.json()["runs"]
    assert run_ids and set(
        PipelineRun.objects.filter(pk__in=run_ids).values_list("status", flat=True)
    ) == {"PENDING"}


def test_run_pipeline_async_with_the_broker_down_is_one_line_naming_the_run(dead_broker):
    """Was ~20 s of retry logs and a 184-line traceback."""
    env = dict(os.environ, DATABASE_URL=database_url(), CELERY_BROKER_URL=dead_broker)
    env.update(DJANGO_SETTINGS_MODULE="config.settings", PYTHONPATH=str(ROOT))
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "manage.py", "run_pipeline", "--config", "pipelines/health-check.json"]
        + ["--payload", '{"server": "web-07"}', "--async"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    took = time.monotonic() - started
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    run = PipelineRun.objects.get()
    assert lines[0].startswith(f"CommandError: Run {run.pk} is stored PENDING"), lines[0]
    assert "retried" in lines[0] and run.status == "PENDING"
    assert took < 8, f"took {took:.1f}s (Django start-up included)"


# --- honest outcomes ----------------------------------------------------------------------


def fan_out(sink_url: str, *, page_required: bool) -> dict:
    return {
        "nodes": [
            {
                "id": "pick",
                "type": "transform",
                "config": {"mapping": {"s": "payload.server"}},
                "next": ["page", "log"],
            },
            {
                "id": "page",
                "type": "notify",
                "required": page_required,
                "config": {"driver": "generic", "url": f"{sink_url}/page"},
            },
            {"id": "log", "type": "transform", "config": {"mapping": {"s": "nodes.pick.output.s"}}},
        ]
    }


def test_a_failed_node_stops_only_its_descendants(http_sink, settings, tmp_path):
    """Was: a failed `page` left its fan-out sibling `log` NOT_RUN."""
    settings.NOTIFY_MAX_ATTEMPTS = 1
    http_sink.respond(500, "down")
    path = tmp_path / "fan.json"
    path.write_text(json.dumps(fan_out(http_sink.url, page_required=True)))
    with pytest.raises(CommandError, match="Pipeline failed: node 'page'"):
        call_command(
            "run_pipeline", "--config", str(path), "--payload", SERVER, "--json", stdout=StringIO()
        )
    run = PipelineRun.objects.get()
    statuses = dict(run.stages.values_list("node_id", "status"))
    assert statuses == {"pick": "SUCCEEDED", "page": "FAILED", "log": "SUCCEEDED"}
    assert run.status == "FAILED" and run.failed_nodes == ["page"]


def test_a_run_with_a_failed_optional_node_says_so_everywhere(http_sink, settings, tmp_path):
    """Was: COMPLETED, "✓ Pipeline completed successfully", exit 0 and a green runs list."""
    settings.NOTIFY_MAX_ATTEMPTS = 1
    http_sink.respond(500, "down")
    path = tmp_path / "fan.json"
    path.write_text(json.dumps(fan_out(http_sink.url, page_required=False)))
    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command(
            "run_pipeline", "--config", str(path), "--payload", SERVER, stdout=out, no_color=True
        )
    assert raised.value.returncode == 3
    assert str(raised.value) == "Pipeline completed with 1 failed node: page"
    text = out.getvalue()
    assert "Status: COMPLETED with 1 failed node: page" in text
    assert "⚠ Pipeline completed with 1 failed node: page" in text and "✓" not in text
    run = PipelineRun.objects.get()
    assert run.status == "COMPLETED" and run.failed_nodes == ["page"]
    runs_list = StringIO()
    call_command("runs", stdout=runs_list, no_color=True)
    assert "completed with 1 failed node: page" in runs_list.getvalue()

    read_key = ApiKey.create_key("faults-read", ["read"])[1]
    api = Client(headers={"Authorization": f"Bearer {read_key}"})
    item = api.get("/api/runs/").json()["items"][0]
    assert item["failed_nodes"] == ["page"]
    assert item["outcome"] == "COMPLETED with 1 failed node: page"
    assert api.get(f"/api/runs/{run.pk}").json()["failed_nodes"] == ["page"]

    from django.contrib.auth.models import User

    admin = User.objects.create_superuser("root", "root@example.com", "pw")
    browser = Client()
    browser.force_login(admin)
    listing = browser.get("/admin/orchestration/pipelinerun/").content.decode()
    assert "COMPLETED with 1 failed node: page" in listing
    page = browser.get(f"/runs/{run.pk}").content.decode()
    assert "with 1 failed node: page" in page


# --- faults named for what they are -------------------------------------------------------


@contextmanager
def tiny_tmpfs(where: Path, *options: str):
    where.mkdir(parents=True, exist_ok=True)
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join(["size=1m", *options]), "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mount.stderr.strip() or mount.returncode}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def healthz(settings) -> tuple[int, dict]:
    settings.METRICS_TOKEN = ""
    settings.CELERY_BROKER_URL = ""
    response = Client().get("/healthz")
    return response.status_code, response.json()["checks"]


def test_healthz_reports_a_full_disk(settings, tmp_path):
    """Was 200 while webhooks answered 503 "the database is busy"."""
    settings.DATA_DIR_MIN_FREE_MB = 0
    with tiny_tmpfs(tmp_path / "data") as data:
        settings.DATA_DIR = data
        assert healthz(settings) == (200, {"database": "ok", "storage": "ok"})
        with open(data / "filler", "wb") as filler:
            try:
                while True:
                    filler.write(b"\0" * 65536)
                    filler.flush()
            except OSError:
                pass
        status, checks = healthz(settings)
        assert status == 503 and checks["storage"].startswith("disk full"), checks


def test_healthz_reports_free_space_below_the_threshold(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.DATA_DIR_MIN_FREE_MB = 10**12
    status, checks = healthz(settings)
    assert status == 503 and "below DATA_DIR_MIN_FREE_MB=1e+12" in checks["storage"], checks


def test_healthz_reports_a_read_only_data_dir(settings, tmp_path):
    settings.DATA_DIR_MIN_FREE_MB = 0
    with tiny_tmpfs(tmp_path / "ro", "ro") as data:
        settings.DATA_DIR = data
        status, checks = healthz(settings)
        assert status == 503 and "is not writable" in checks["storage"], checks


def test_a_read_only_data_dir_at_start_is_one_line(tmp_path):
    """Was a raw traceback from every process."""
    with tiny_tmpfs(tmp_path / "ro", "ro") as data:
        env = dict(os.environ, DATA_DIR=str(data), DJANGO_SETTINGS_MODULE="config.settings")
        env.pop("DATABASE_URL", None)
        done = subprocess.run(
            [sys.executable, "manage.py", "check"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"ImproperlyConfigured: DATA_DIR {data} is not writable"), lines


def test_metrics_with_the_database_down_logs_one_line_per_scrape(settings, caplog):
    """Was a traceback on every scrape."""
    settings.METRICS_TOKEN = ""
    settings.CELERY_BROKER_URL = ""
    name = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = "/nonexistent/dir/db.sqlite3"
    try:
        with caplog.at_level("WARNING"):
            for _ in range(2):
                response = Client().get("/metrics")
                assert response.status_code == 200
    finally:
        connection.close()
        connection.settings_dict["NAME"] = name
    failures = [r for r in caplog.records if "could not count" in r.getMessage()]
    assert len(failures) == 2, [r.getMessage() for r in caplog.records]
    assert not any(r.exc_info for r in caplog.records)
    assert all("\n" not in r.getMessage() for r in failures)


def test_a_redelivered_batch_sends_back_only_the_runs_still_pending(celery_on_redis):
    """Was: a batch message delivered again after its worker died sent every other run of the
    batch back, the finished ones too."""
    import redis

    from apps.orchestration.tasks import execute_runs_task

    first, finished, waiting_run = (
        create_run(definition(), {"server": f"s{i}"}, source="api") for i in range(3)
    )
    PipelineRun.objects.filter(pk=finished.pk).update(status="COMPLETED")
    client = redis.Redis.from_url(REDIS_URL)
    execute_runs_task.apply(([first.pk, finished.pk, waiting_run.pk],), {"priorities": [2, 5, 7]})
    assert queued_run_ids() == {waiting_run.pk}
    assert waiting(client) == 1
    assert PipelineRun.objects.get(pk=first.pk).status == "COMPLETED"
    assert PipelineRun.objects.get(pk=finished.pk).status == "COMPLETED"
