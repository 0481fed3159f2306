"""Agent snapshots: simulated agents posting to gunicorn (2 workers) on loopback.

A fleet of --hosts hosts, each snapshot a real-shaped body (8 checks with readings, ~3 KiB);
about 1 in 100 snapshots changes a check's status (that one is also ingested as an alert), the
rest only move the host row, as in a healthy fleet. Every request is a new connection, as
agents behind a proxy make them. The load comes from wrk when Debian's `wrk` is installed (a
C load generator: a few microseconds of CPU per request), else from Python threads (about
0.5 ms per request, taken from the same two cores the server has). Figures: snapshots/s
answered 202, CPU per request of the web workers and of the PostgreSQL server, p50/p99
latency; then the in-process cost the `agent` source adds to a context node.
Target (issue 13): >= 1,000 snapshots/s with p99 < 100 ms on PostgreSQL; the agent source
< 5 ms per context node.

Usage: python bench/bench_agents.py [--seconds 10] [--clients 8] [--hosts 2000]
       [--load wrk|python] [--database-url postgres://...]   (default: a fresh SQLite file)
"""

import argparse
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import wrk_load
from bench_ingest import database_cpu, free_port, manage, post_for, wait_for, workers_cpu

# PostgreSQL settings need a secret key (SQLite makes its own): the bench's processes share this one.
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))

ROOT = Path(__file__).resolve().parent.parent
CHECKS = ("cpu", "memory", "swap", "load", "disk", "network", "process", "uptime")


def snapshot(host: int, flip: bool) -> bytes:
    disk = 95.0 if flip else 40.0 + host % 20
    checks = {
        name: {"status": "ok", "message": f"{name} fine", "readings": {"percent": 12.5}}
        for name in CHECKS
    }
    checks["disk"] = {
        "status": "critical" if flip else "ok",
        "message": f"disk / {disk:.1f}% used",
        "readings": {
            "paths": {"/": {"percent": disk, "inodes_percent": 3.0, "max_percent": disk,
                            "total_bytes": 10**11, "used_bytes": int(disk * 10**9),
                            "free_bytes": int((100 - disk) * 10**9)}},
            "max_percent": disk,
        },
    }  # fmt: skip
    body = {
        "observed_at": datetime.now(UTC).isoformat(),
        "interval_s": 30,
        "agent_version": "bench",
        "host": {"os": "Linux 6.1", "uptime_s": 86400 + host, "cpu_count": 4},
        "checks": checks,
        "labels": {"role": "web", "rack": f"r{host % 40}"},
    }
    return json.dumps(body).encode()


def snapshot_requests(hosts: int):
    """(path, body maker) for a random host; about 1 in 100 snapshots flips a status."""
    rng = random.Random(1)
    while True:
        host, flip = rng.randrange(hosts), rng.random() < 0.01
        yield f"/api/hosts/bench-{host:05d}/snapshots", lambda h=host, f=flip: snapshot(h, f)


def load_with_wrk(port: int, key: str, args, data_dir: Path, seconds: float) -> dict:
    script = data_dir / "agents.lua"
    if not script.exists():
        bodies = [snapshot(host, False).decode() for host in range(min(args.hosts, 200))]
        flipped = [snapshot(host, True).decode() for host in range(min(args.hosts, 200))]
        wrk_load.write_script(
            script, key, bodies, flipped, args.hosts, "/api/hosts/bench-%05d/snapshots", 100
        )
    return wrk_load.run(script, port, seconds, args.clients)


def load_with_python(port: int, key: str, args, seconds: float) -> dict:
    stats = post_for(seconds, port, key, snapshot_requests(args.hosts), args.clients)
    latencies = sorted(stats["latencies"])
    return {
        "requests": len(latencies),
        "seconds": seconds,
        "non_2xx": len(latencies) - stats["statuses"].get(202, 0),
        "socket_errors": ", ".join(f"{s}: {n}" for s, n in stats["statuses"].items()
                                   if not isinstance(s, int)) or "none",
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }  # fmt: skip


def agent_source_cost(env: dict) -> str:
    """ms per `agent`-source context lookup, in a process of its own on the same database."""
    code = (
        "import time;from apps.hosts.facts import host_facts;"
        "names=[f'bench-{i:05d}' for i in range(200)];"
        "[host_facts(n, ['agent']) for n in names[:20]];"
        "t=time.perf_counter();out=[host_facts(n, ['agent']) for n in names];"
        "ms=(time.perf_counter()-t)*1000/len(names);"
        'print(f\'{ms:.2f} ms per context lookup, {sum(o["available"] for o in out)} of '
        "{len(out)} hosts with facts')"
    )
    return manage(env, "shell", "-c", code).strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--hosts", type=int, default=2000)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--database-url", default="", help="Default: a fresh SQLite file.")
    parser.add_argument("--load", choices=["wrk", "python"], default="",
                        help="Load generator (default: wrk when installed).")  # fmt: skip
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-agents-"))
    database_url = args.database_url or f"sqlite:///{data_dir / 'db.sqlite3'}"
    database = "PostgreSQL" if database_url.startswith("postgres") else "SQLite (WAL)"
    env = dict(
        os.environ, DATABASE_URL=database_url, DATA_DIR=str(data_dir), LOG_LEVEL="ERROR",
        INGEST_START_RUNS="0", CELERY_BROKER_URL="", DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
    )  # fmt: skip
    if args.database_url:
        manage(env, "flush", "--noinput")
    manage(env, "migrate", "--noinput", "-v", "0")
    key = manage(env, "create_api_key", f"bench-agents-{time.time_ns()}").splitlines()[-1]
    port = free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    server = subprocess.Popen(
        [gunicorn, "config.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "2",
         "--timeout", "120", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=open(data_dir / "gunicorn.log", "w"),  # noqa: SIM115
    )  # fmt: skip
    load = args.load or ("wrk" if wrk_load.available() else "python")
    try:
        wait_for(port)

        def post(seconds: float) -> dict:
            if load == "wrk":
                return load_with_wrk(port, key, args, data_dir, seconds)
            return load_with_python(port, key, args, seconds)

        post(args.warmup)
        cpu_before, client_before, db_before = workers_cpu(server), time.process_time(), 0.0
        postgres = database_url.startswith("postgres")
        if postgres:
            db_before = database_cpu(database_url)
        started = time.monotonic()
        stats = post(args.seconds)
        elapsed = time.monotonic() - started
        cpu = workers_cpu(server) - cpu_before
        client_cpu = time.process_time() - client_before
        db_cpu = database_cpu(database_url) - db_before if postgres else 0.0
    finally:
        server.terminate()
        server.wait(30)
    requests = max(1, stats["requests"])
    accepted = stats["requests"] - stats["non_2xx"]
    elapsed = stats["seconds"] if load == "wrk" else elapsed
    generator = (
        "wrk (C)"
        if load == "wrk"
        else f"Python threads, {client_cpu * 1000 / requests:.1f} ms/request"
    )
    print(f"agents: gunicorn -w 2 on loopback, {database}, {args.hosts} hosts, "
          f"{args.clients} connections, {args.seconds:.0f} s after {args.warmup:.0f} s warm-up; "
          f"load from {generator}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
    database_share = (
        f", PostgreSQL backends {db_cpu * 1000 / requests:.2f} ms/request" if postgres else ""
    )
    print(f"  {accepted / elapsed:8.0f} snapshots/s accepted ({stats['requests']} requests, "
          f"{stats['non_2xx']} not 202, socket errors: {stats['socket_errors']}); "
          f"CPU: web workers {cpu * 1000 / requests:.2f} ms/request{database_share}; "
          f"p50 {stats['p50_ms']:.0f} ms, p99 {stats['p99_ms']:.0f} ms")  # fmt: skip
    print(f"  agent source: {agent_source_cost(env)}")
    print("  target: >= 1000 snapshots/s, p99 < 100 ms on PostgreSQL; agent source < 5 ms")


if __name__ == "__main__":
    main()
