"""A real Celery worker on the real Redis of this machine, sharing the test database."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def wait_until(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return True
    except Exception:
        return False


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    user = s.get("USER") or "postgres"
    auth = f"{user}:{s['PASSWORD']}@" if s.get("PASSWORD") else f"{user}@"
    return f"postgres://{auth}{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


class Workers:
    def __init__(self, tmp_path: Path, extra_env: dict[str, str]):
        self.tmp_path = tmp_path
        self.extra_env = extra_env
        self.procs: list[subprocess.Popen] = []

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=database_url(),
            CELERY_BROKER_URL=REDIS_URL,
            CELERY_RESULT_BACKEND=REDIS_URL,
            OUTBOUND_ALLOW_PRIVATE="1",
            DJANGO_SETTINGS_MODULE="config.settings",
        )
        env.update(self.extra_env)
        return env

    def start(self, name: str, concurrency: int = 2) -> subprocess.Popen:
        log = open(self.tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                "pipelines,notifications",
                "-c",
                str(concurrency),
                "-n",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "info",
            ],
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if "ready." in (self.tmp_path / f"{name}.log").read_text():
                return proc
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError("worker did not start:\n" + (self.tmp_path / f"{name}.log").read_text())

    def kill(self, proc: subprocess.Popen) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def celery_on_redis(settings):
    """Point this process's Celery app at Redis (tasks are sent, not run eagerly)."""
    if not redis_available():
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    import redis

    from config.celery import app

    redis.Redis.from_url(REDIS_URL).flushdb()
    settings.CELERY_BROKER_URL = REDIS_URL
    settings.PIPELINE_RUNNER = "celery"
    previous = {k: app.conf.get(k) for k in ("broker_url", "result_backend", "task_always_eager")}
    app.conf.update(broker_url=REDIS_URL, result_backend=REDIS_URL, task_always_eager=False)
    reset_connections(app)
    yield app
    app.conf.update(previous)
    reset_connections(app)


def reset_connections(app) -> None:
    """Drop pooled broker connections so the next send uses the current broker_url."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
    app.__dict__.pop("backend", None)
    app._local.__dict__.pop("backend", None)


@pytest.fixture
def workers(tmp_path, celery_on_redis):
    made: list[Workers] = []

    def make(**extra_env: str) -> Workers:
        group = Workers(tmp_path, {k: str(v) for k, v in extra_env.items()})
        made.append(group)
        return group

    yield make
    for group in made:
        group.stop_all()
