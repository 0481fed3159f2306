"""The agent and the hub as real separate processes: gunicorn serving this project on a SQLite
file, and `apps.agent` (Django blocked) posting snapshots to it as web-07."""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import QUIET, ROOT, Agents

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Hub:
    """gunicorn on a fixed port and database, which can be stopped and started again."""

    tmp: Path
    port: int
    env: dict
    key: str = ""
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    def query(self, code: str) -> object:
        return json.loads(self.manage("shell", "-c", code).strip().splitlines()[-1])

    def start(self) -> None:
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.proc = subprocess.Popen(
            [gunicorn, "config.wsgi:application", "-b", f"127.0.0.1:{self.port}", "-w", "1",
             "--log-level", "warning"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL,
            stderr=(self.tmp / "gunicorn.log").open("a"),
        )  # fmt: skip
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        pytest.fail("the hub did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(30)
            self.proc = None


@pytest.fixture
def real_hub(tmp_path) -> Iterator[Hub]:
    env = dict(
        os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'hub.sqlite3'}", DATA_DIR=str(tmp_path),
        CELERY_BROKER_URL="", INGEST_START_RUNS="0", HOST_NAME="hub-1", HOST_ALIASES="",
        HOST_SILENT_AFTER_S="3", DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost", LOG_LEVEL="WARNING",
    )  # fmt: skip
    hub = Hub(tmp_path, free_port(), env)
    hub.manage("migrate", "--noinput", "-v", "0")
    hub.key = hub.manage("create_api_key", "agents", "--scopes", "ingest").splitlines()[-1]
    hub.start()
    yield hub
    hub.stop()


def host_row(hub: Hub) -> dict:
    return hub.query(
        "import json;from apps.hosts.models import Host;h=Host.objects.filter(name='web-07')"
        ".values('statuses','last_seen','silent_since').first();"
        "print(json.dumps(h, default=str))"
    )


def incidents(hub: Hub) -> list:
    return hub.query(
        "import json;from apps.alerts.models import Incident;"
        "print(json.dumps(list(Incident.objects.order_by('id').values_list('title','status','source'))))"
    )


def wait_until(condition, timeout_s: float, what: str) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout_s:g} s waiting for {what}")


def test_agent_reports_catches_up_after_an_outage_and_a_silence_pages(real_hub, tmp_path):
    agents = Agents(tmp_path, real_hub)  # type: ignore[arg-type]
    env = agents.env(AGENT_API_KEY=real_hub.key, AGENT_HUB_URL=real_hub.url)
    # memory warns from the start (threshold 0.1%): a failing check on a server opens an incident
    pairs = [QUIET[i : i + 2] for i in range(0, len(QUIET), 2)]
    quiet = [arg for pair in pairs if pair[1] != "memory.warning=none" for arg in pair]
    args = ["--host-name", "web-07", "--interval", "1", *quiet, "--option", "memory.warning=0.1"]
    agent = agents.start(*args, env=env)
    try:
        wait_until(lambda: (host_row(real_hub) or {}).get("statuses", {}).get("memory")
                   == "warning", 60, "the first snapshot")  # fmt: skip
        assert ["memory check on web-07", "open", "checks"] in incidents(real_hub)

        real_hub.stop()  # the hub is away for 20 s; the agent keeps its snapshot and backs off
        time.sleep(20)
        assert agent.proc.poll() is None, agent.stderr
        seen_before = host_row(real_hub)["last_seen"]
        real_hub.start()
        wait_until(lambda: host_row(real_hub)["last_seen"] != seen_before, 90, "the catch-up")
        assert "Traceback" not in agent.stderr
    finally:
        agent.proc.terminate()
        agent.wait(30)

    time.sleep(4)  # silent for longer than HOST_SILENT_AFTER_S=3
    out = real_hub.manage("sweep_runs")
    assert "Silent hosts paged: 1 ['web-07']" in out
    assert ["web-07 stopped reporting", "open", "agent"] in incidents(real_hub)

    agent = agents.start(*args, env=env)
    try:
        wait_until(lambda: ["web-07 stopped reporting", "resolved", "agent"]
                   in incidents(real_hub), 60, "the silence to resolve")  # fmt: skip
    finally:
        agent.proc.terminate()
        agent.wait(30)
    assert not (tmp_path / "django-imports.log").exists()
