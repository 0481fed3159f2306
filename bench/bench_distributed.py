"""Distributed throughput: runs of a 3-node transform definition on 1 and then 2 Celery workers.

Real parts: a fresh PostgreSQL database (`bench_distributed`, dropped and re-created, then
migrated), Redis DB 13 as broker and result backend, and `celery -A config worker` processes.
Each worker is its own process with `--concurrency` pool processes (default 1), so "2 workers"
means two worker processes consuming the same queue.

One measurement: the workers are started and warmed up, N PENDING runs are created (not timed),
then the clock starts, the N runs are dispatched (one task each) and it stops when the last run
is COMPLETED (the latest `finished_at` recorded by the workers; same host clock).

Usage: python bench/bench_distributed.py [--runs 500] [--concurrency 1] [--timeout 300]
Workers are always stopped at the end (SIGTERM, then SIGKILL), even on error or Ctrl-C.
"""

import argparse
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "bench_distributed"
WARM_UP_RUNS = 10

from bench_engine import DEFINITION  # noqa: E402 - the same 3-node definition as the engine bench

# PostgreSQL settings need a secret key (SQLite makes its own): the bench's processes share this one.
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500, help="runs per measurement (default 500)")
    parser.add_argument(
        "--concurrency", type=int, default=1, help="pool processes per worker (default 1)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="give up on a measurement after this many seconds (default 300)",
    )
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/13",
        help="broker and result backend (default redis://127.0.0.1:6379/13)",
    )
    parser.add_argument(
        "--postgres",
        default="postgres://postgres@127.0.0.1:5432",
        help="PostgreSQL server; the database bench_distributed is re-created there",
    )
    parser.add_argument(
        "--keep-db", action="store_true", help="do not drop the database at the end"
    )
    args = parser.parse_args()
    if args.runs < 1 or args.concurrency < 1 or args.timeout <= 0:
        parser.error("--runs, --concurrency and --timeout must be positive")
    return args


# --- the database ------------------------------------------------------------------------------


def admin_sql(server_url: str, statement: str) -> None:
    """One statement against the server's `postgres` database, outside a transaction."""
    with psycopg.connect(f"{server_url}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(statement)


def fresh_database(server_url: str) -> str:
    admin_sql(server_url, f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    admin_sql(server_url, f"CREATE DATABASE {DB_NAME}")
    return f"{server_url}/{DB_NAME}"


def django_on(database_url: str, redis_url: str) -> None:
    os.environ.update(
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=redis_url,
        CELERY_RESULT_BACKEND=redis_url,
        DATA_DIR=tempfile.mkdtemp(prefix="bench-distributed-"),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    import config.celery  # noqa: F401 - binds the shared tasks to the app configured from env

    call_command("migrate", verbosity=0)


# --- worker processes --------------------------------------------------------------------------


class Workers:
    """Celery worker processes, each in its own session so that stop() reaches its children."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []

    def start(self, count: int, concurrency: int) -> list[str]:
        names = []
        for index in range(1, count + 1):
            name = f"bench{index}-{os.getpid()}@localhost"
            log = open(self.log_dir / f"worker{index}.log", "w")  # noqa: SIM115 - owned by proc
            self.procs.append(
                subprocess.Popen(
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
                        name,
                        "--without-gossip",
                        "--without-mingle",
                        "-l",
                        "warning",
                    ],
                    cwd=ROOT,
                    env=dict(os.environ),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            names.append(name)
        return names

    def wait_ready(self, names: list[str], timeout_s: float = 60.0) -> None:
        from config.celery import app

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            dead = [p for p in self.procs if p.poll() is not None]
            if dead:
                raise RuntimeError(f"a worker exited at start; see {self.log_dir}")
            replies = app.control.ping(destination=names, timeout=1.0)
            if len({name for reply in replies for name in reply}) == len(names):
                return
        raise RuntimeError(f"workers not ready after {timeout_s:g}s; see {self.log_dir}")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        self.procs = []


# --- one measurement ---------------------------------------------------------------------------


def wait_completed(run_ids: list[int], timeout_s: float) -> None:
    from apps.orchestration.models import PipelineRun

    deadline = time.monotonic() + timeout_s
    while True:
        done = PipelineRun.objects.filter(pk__in=run_ids, status="COMPLETED").count()
        if done == len(run_ids):
            return
        others = PipelineRun.objects.filter(pk__in=run_ids, status="FAILED").values_list(
            "pk", "error"
        )[:1]
        if others:
            raise RuntimeError(f"run {others[0][0]} FAILED: {others[0][1]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {done}/{len(run_ids)} runs COMPLETED after {timeout_s:g}s")
        time.sleep(0.1)


def create_runs(definition, count: int) -> list[int]:
    from apps.orchestration.services import create_run

    return [
        create_run(definition, {"server": f"web-{i:04d}", "env": "prod"}, source="api").pk
        for i in range(count)
    ]


def measure(workers: int, args: argparse.Namespace, definition, log_dir: Path) -> float:
    """Runs/s of `workers` worker processes; raises if any run did not complete in time."""
    from django.db.models import Max

    from apps.orchestration.models import PipelineRun, StageExecution
    from apps.orchestration.services import dispatch

    redis.Redis.from_url(args.redis).flushdb()
    PipelineRun.objects.all().delete()
    group = Workers(log_dir)
    try:
        names = group.start(workers, args.concurrency)
        group.wait_ready(names)
        warm = create_runs(definition, WARM_UP_RUNS * workers)
        dispatch(warm)
        wait_completed(warm, 60)
        run_ids = create_runs(definition, args.runs)
        started = datetime.now().astimezone()
        dispatch(run_ids)
        wait_completed(run_ids, args.timeout)
        finished = PipelineRun.objects.filter(pk__in=run_ids).aggregate(last=Max("finished_at"))
        elapsed = (finished["last"] - started).total_seconds()
        stages = StageExecution.objects.filter(run_id__in=run_ids).count()
        if stages != 3 * args.runs:
            raise RuntimeError(f"expected {3 * args.runs} stage records, found {stages}")
        print(
            f"  {workers} worker(s): {args.runs} runs COMPLETED, {stages} stage records, "
            f"{elapsed:.2f} s, {args.runs / elapsed:.1f} runs/s; tasks per worker "
            f"(warm-up included): {tasks_per_worker(names)}",
            flush=True,
        )
        return args.runs / elapsed
    finally:
        group.stop()


def tasks_per_worker(names: list[str]) -> str:
    """What each worker says it executed, so a worker that sat idle shows."""
    from config.celery import app

    stats = app.control.inspect(destination=names, timeout=2.0).stats() or {}
    totals = {name: sum(stats.get(name, {}).get("total", {}).values()) for name in names}
    return ", ".join(f"{name.split('@')[0]}={total}" for name, total in totals.items())


def stop_on_signal(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def check_redis(url: str) -> None:
    redis.Redis.from_url(url, socket_connect_timeout=2).ping()


def close_django_connections() -> None:
    from django.conf import settings

    if settings.configured:
        from django.db import connections

        connections.close_all()


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, stop_on_signal)
    log_dir = Path(tempfile.mkdtemp(prefix="bench-distributed-logs-"))
    try:
        check_redis(args.redis)
        django_on(fresh_database(args.postgres), args.redis)
        from apps.orchestration.models import PipelineDefinition

        definition = PipelineDefinition.objects.create(name="bench-transform", config=DEFINITION)
        print(
            f"distributed: {args.runs} runs of a 3-node transform definition; PostgreSQL "
            f"{DB_NAME}, Redis {args.redis}; worker processes with concurrency "
            f"{args.concurrency} each; worker logs in {log_dir}",
            flush=True,
        )
        one = measure(1, args, definition, log_dir)
        two = measure(2, args, definition, log_dir)
        print(f"  ratio 2/1 workers: {two / one:.2f}x")
        return 0
    except (RuntimeError, KeyboardInterrupt, psycopg.Error, redis.RedisError) as exc:
        print(f"bench_distributed failed: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    finally:
        with contextlib.suppress(redis.RedisError):
            redis.Redis.from_url(args.redis, socket_connect_timeout=2).flushdb()
        if not args.keep_db:
            close_django_connections()
            with contextlib.suppress(psycopg.Error):
                admin_sql(args.postgres, f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


if __name__ == "__main__":
    sys.exit(main())
