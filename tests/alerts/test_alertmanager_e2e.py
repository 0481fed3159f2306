"""A real client: Prometheus Alertmanager delivers to the project served by gunicorn.

Alertmanager (Debian package prometheus-alertmanager) runs on loopback with a webhook receiver
pointing at /api/alerts/alertmanager/ and a Bearer API key made by `create_api_key`. An alert
posted to Alertmanager's API must become an Alert, an Incident and a completed PipelineRun;
the same alert posted with endsAt in the past must resolve the incident.
"""

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
PROJECT = Path(__file__).resolve().parents[2]
ALERT_NAME = "E2EDiskFull"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (httpx.HTTPError, sqlite3.Error) as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def start(cmd: list[str], env: dict | None, log: Path) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(cmd, cwd=PROJECT, env=env, stdout=handle, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


@pytest.fixture
def project_server(tmp_path):
    """gunicorn on loopback over a fresh SQLite file; yields (base_url, db_path, api_key)."""
    db_path = tmp_path / "db.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db_path}",
        "DATA_DIR": str(tmp_path),
        "INGEST_START_RUNS": "1",
        "CELERY_BROKER_URL": "",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    manage(env, "migrate", "--noinput", "-v", "0")
    key = manage(env, "create_api_key", "alertmanager-e2e", "--scopes", "ingest").splitlines()[-1]
    port = free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    server = start(
        [gunicorn, "config.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "1",
         "--timeout", "60"],
        env, tmp_path / "gunicorn.log",
    )  # fmt: skip
    # Without a broker the web server only stores runs; the documented runner executes them.
    runner = start(
        [sys.executable, "manage.py", "run_worker", "--threads", "2"],
        env, tmp_path / "run_worker.log",
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{base}/api/alerts/", timeout=2).status_code, 30, "gunicorn")
        yield base, db_path, key
    finally:
        stop(server)
        stop(runner)


@pytest.fixture
def alertmanager(tmp_path, project_server):
    if not Path(ALERTMANAGER).exists():
        pytest.skip(f"{ALERTMANAGER} is missing: apt-get install prometheus-alertmanager")
    base, _, key = project_server
    config = {
        "route": {
            "receiver": "project",
            "group_by": ["alertname", "instance"],
            "group_wait": "0s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [
            {
                "name": "project",
                "webhook_configs": [
                    {
                        "url": f"{base}/api/alerts/alertmanager/",
                        "send_resolved": True,
                        "http_config": {"authorization": {"credentials": key}},
                    }
                ],
            }
        ],
    }
    config_path = tmp_path / "alertmanager.yml"
    config_path.write_text(json.dumps(config))  # JSON is valid YAML
    port = free_port()
    process = start(
        [ALERTMANAGER, f"--config.file={config_path}", f"--storage.path={tmp_path / 'am'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
         "--log.level=debug"],
        None, tmp_path / "alertmanager.log",
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{url}/-/ready", timeout=2).status_code == 200, 30, "AM")
        yield url
    finally:
        stop(process)
        shutil.rmtree(tmp_path / "am", ignore_errors=True)


def query(db_path: Path, sql: str, *params):
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def post_alert(url: str, ends_at: datetime | None = None) -> None:
    now = datetime.now(UTC)
    alert = {
        "labels": {"alertname": ALERT_NAME, "instance": "web-e2e:9100", "severity": "critical"},
        "annotations": {"summary": "Disk almost full on web-e2e"},
        "startsAt": (now - timedelta(minutes=1)).isoformat(),
        "generatorURL": "http://prometheus.example.com/graph",
    }
    if ends_at is not None:
        alert["endsAt"] = ends_at.isoformat()
    response = httpx.post(f"{url}/api/v2/alerts", json=[alert], timeout=5)
    assert response.status_code == 200, response.text


def test_alertmanager_delivers_fires_runs_and_resolves(alertmanager, project_server, tmp_path):
    _, db_path, _ = project_server
    post_alert(alertmanager)

    def recorded():
        rows = query(
            db_path,
            "SELECT a.id, a.status, i.id, i.status FROM alerts_alert a "
            "JOIN alerts_incident i ON a.incident_id = i.id WHERE a.name = ?",
            ALERT_NAME,
        )
        return rows[0] if rows else None

    alert_id, alert_status, incident_id, incident_status = wait_until(
        recorded, 30, "the alert and its incident"
    )
    assert (alert_status, incident_status) == ("firing", "open")
    assert query(db_path, "SELECT source FROM alerts_alert WHERE id = ?", alert_id) == [
        ("alertmanager",)
    ]

    def completed_run():
        rows = query(
            db_path,
            "SELECT id, status, error FROM orchestration_pipelinerun WHERE incident_id = ?",
            incident_id,
        )
        return rows[0] if rows and rows[0][1] in ("COMPLETED", "FAILED") else None

    run_id, run_status, error = wait_until(completed_run, 60, "the pipeline run to finish")
    assert run_status == "COMPLETED", error

    post_alert(alertmanager, ends_at=datetime.now(UTC) - timedelta(seconds=5))

    def resolved():
        rows = query(db_path, "SELECT status FROM alerts_incident WHERE id = ?", incident_id)
        return rows[0][0] == "resolved"

    wait_until(resolved, 30, "the incident to resolve")
    assert query(db_path, "SELECT status FROM alerts_alert WHERE id = ?", alert_id) == [
        ("resolved",)
    ]
    transitions = query(
        db_path,
        "SELECT from_status, to_status FROM alerts_incidentevent WHERE incident_id = ? ORDER BY id",
        incident_id,
    )
    assert transitions[0] == ("", "open") and transitions[-1][1] == "resolved"
    assert query(db_path, "SELECT COUNT(*) FROM alerts_incident") == [(1,)]
