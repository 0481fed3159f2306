"""A stand-in hub (http.server on 127.0.0.1 in a thread of the test process) and the agent as a
real separate process, with Django blocked in it."""

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "agent-test-key-7f3a"
CHECK_NAMES = ["cpu", "memory", "swap", "load", "disk", "network", "process", "uptime"]
# Thresholds off, so that statuses on this busy machine do not flip during a test.
QUIET = [
    arg
    for name in CHECK_NAMES
    for level in ("warning", "critical")
    for arg in ("--option", f"{name}.{level}=none")
]

# Runs apps.agent as `python -m apps.agent` would, after a finder that refuses Django and notes
# every attempt in $DJANGO_IMPORT_LOG (so even an attempt swallowed by an `except` shows).
BLOCK_DJANGO = """
import os, runpy, sys

class NoDjango:
    def find_spec(self, name, path=None, target=None):
        if name == "django" or name.startswith("django."):
            with open(os.environ["DJANGO_IMPORT_LOG"], "a") as log:
                log.write(name + "\\n")
            raise ImportError("Django is blocked in the agent process: " + name)
        return None

sys.meta_path.insert(0, NoDjango())
runpy.run_module("apps.agent", run_name="__main__", alter_sys=True)
"""


@dataclass
class Posted:
    path: str
    headers: dict[str, str]
    body: Any
    answered: int
    at: float


@dataclass
class FakeHub:
    """Answers `status` (202 by default) to every POST; can be stopped and started again on the
    same port; counts requests in flight."""

    status: int = 202
    delay_s: float = 0.0
    port: int = 0
    requests: list[Posted] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                with hub.lock:
                    hub.in_flight += 1
                    hub.max_in_flight = max(hub.max_in_flight, hub.in_flight)
                answered = False
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                    raw = self.rfile.read(length)
                    time.sleep(hub.delay_s)
                    status = hub.status
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    posted = Posted(self.path, headers, json.loads(raw), status, time.time())
                    # Out of flight before the answer leaves: the agent may send its next
                    # request the moment it reads this one, while this thread still runs.
                    with hub.lock:
                        hub.requests.append(posted)
                        hub.in_flight -= 1
                        answered = True
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                finally:
                    if not answered:
                        with hub.lock:
                            hub.in_flight -= 1

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def accepted(self) -> list[Any]:
        with self.lock:
            return [p.body for p in self.requests if p.answered == 202]

    def wait_for(self, condition: Callable[[], bool], timeout_s: float = 30.0) -> bool:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if condition():
                return True
            time.sleep(0.05)
        return condition()


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    server = FakeHub()
    server.start()
    yield server
    server.stop()


@dataclass
class AgentProcess:
    proc: subprocess.Popen
    stdout_path: Path
    stderr_path: Path

    def wait(self, timeout_s: float = 30.0) -> int:
        return self.proc.wait(timeout_s)

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text()

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def stderr_lines(self) -> list[str]:
        return self.stderr.splitlines()


@dataclass
class Agents:
    """Starts agents; every one is killed at teardown, and none may have tried to import Django."""

    tmp_path: Path
    hub: FakeHub
    started: list[AgentProcess] = field(default_factory=list)

    @property
    def django_log(self) -> Path:
        return self.tmp_path / "django-imports.log"

    def env(self, **overrides: str | None) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
            "LANG": "C.UTF-8",
            "AGENT_HUB_URL": self.hub.url,
            "AGENT_API_KEY": API_KEY,
            "DJANGO_IMPORT_LOG": str(self.django_log),
        }
        env.update(overrides)  # type: ignore[arg-type]
        return {k: v for k, v in env.items() if v is not None}

    def start(self, *args: str, env: dict[str, str] | None = None) -> AgentProcess:
        n = len(self.started)
        out, err = self.tmp_path / f"agent{n}.out", self.tmp_path / f"agent{n}.err"
        with out.open("w") as stdout, err.open("w") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-c", BLOCK_DJANGO, *args],
                env=env or self.env(),
                cwd=self.tmp_path,
                stdout=stdout,
                stderr=stderr,
            )
        agent = AgentProcess(proc, out, err)
        self.started.append(agent)
        return agent

    def run(self, *args: str, env: dict[str, str] | None = None, timeout_s: float = 60) -> tuple:
        agent = self.start(*args, env=env)
        code = agent.wait(timeout_s)
        return code, agent.stdout, agent.stderr


@pytest.fixture
def agents(tmp_path, hub) -> Iterator[Agents]:
    runner = Agents(tmp_path, hub)
    yield runner
    for agent in runner.started:
        if agent.proc.poll() is None:
            agent.proc.kill()
            agent.proc.wait(10)
    assert not runner.django_log.exists(), runner.django_log.read_text()
