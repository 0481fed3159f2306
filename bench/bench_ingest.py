"""Webhook ingestion throughput: Alertmanager payloads posted to gunicorn (2 workers) on loopback.

Each payload is one Alertmanager v4 group of 10 firing alerts with distinct fingerprints and
instances (so 10 new alerts and 10 new incidents per request, dedup on). The figure is alerts
stored per second, counted in the database afterwards, for INGEST_START_RUNS=0 and =1, each
against a fresh SQLite (WAL) file. Target (issue 4): >= 1,500 alerts/s with runs off.

The deployment the figure assumes: gunicorn's default sync workers (2, `-w 2`), no keep-alive
(every webhook is a new connection, as behind a reverse proxy), the project's SQLite settings
(WAL, synchronous=NORMAL) or PostgreSQL on the same host, DEBUG off. Each mode first posts for
--warmup seconds, not counted: a fresh worker spends ~0.35 s of CPU on its first request
(URLconf, vendor modules, first queries), which is start-up, not throughput; with runs on,
the warm-up's runs finish before the window starts. The server's CPU time per request is
printed too: on a shared 2-core machine it is the steadier number.

Usage: python bench/bench_ingest.py [--seconds 10] [--clients 6] [--modes off,on]
       [--warmup 2] [--database-url postgres://...]   (default: a fresh SQLite file per mode)
"""

import argparse
import http.client
import json
import os
import secrets
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

# PostgreSQL settings need a secret key (SQLite makes its own): the bench's processes share this one.
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))

ROOT = Path(__file__).resolve().parent.parent
ALERTS_PER_PAYLOAD = 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def payload(batch: int) -> bytes:
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": f"BenchLoad{batch}", "instance": f"node-{batch}-{i}:9100",
                       "severity": "warning" if i % 3 else "critical", "job": "node"},
            "annotations": {"summary": f"load high on node-{batch}-{i}"},
            "startsAt": "2026-01-01T00:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.com/graph",
            "fingerprint": f"{batch:010x}{i:06x}",
        }
        for i in range(ALERTS_PER_PAYLOAD)
    ]  # fmt: skip
    return json.dumps(
        {
            "version": "4",
            "groupKey": f'{{}}:{{alertname="BenchLoad{batch}"}}',
            "status": "firing",
            "receiver": "project",
            "truncatedAlerts": 0,
            "groupLabels": {"alertname": f"BenchLoad{batch}"},
            "commonLabels": {"alertname": f"BenchLoad{batch}", "job": "node"},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.example.com",
            "alerts": alerts,
        }  # fmt: skip
    ).encode()


def manage(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def count_rows(env: dict, database_url: str) -> dict[str, int]:
    tables = {"alerts": "alerts_alert", "incidents": "alerts_incident",
              "runs": "orchestration_pipelinerun"}  # fmt: skip
    if database_url.startswith("sqlite:///"):
        connection = sqlite3.connect(database_url[len("sqlite:///") :], timeout=30)
        try:
            counts = {
                name: connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for name, table in tables.items()
            }
            counts["runs_done"] = connection.execute(
                "SELECT COUNT(*) FROM orchestration_pipelinerun "
                "WHERE status IN ('COMPLETED', 'FAILED')"
            ).fetchone()[0]
            return counts
        finally:
            connection.close()
    code = (
        "from apps.alerts.models import Alert, Incident;"
        "from apps.orchestration.models import PipelineRun as R;"
        "import json;print(json.dumps({'alerts': Alert.objects.count(),"
        "'incidents': Incident.objects.count(), 'runs': R.objects.count(),"
        "'runs_done': R.objects.filter(status__in=['COMPLETED','FAILED']).count()}))"
    )
    return json.loads(manage(env, "shell", "-c", code).strip().splitlines()[-1])


def alert_requests(batches):
    """(path, body maker) for each batch: the body is built outside the shared lock."""
    for batch in batches:
        yield "/api/alerts/alertmanager/", lambda batch=batch: payload(batch)


def client(port: int, key: str, requests, stop_at: float, stats: dict, lock) -> None:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    while time.monotonic() < stop_at:
        with lock:
            path, make_body = next(requests)
        body = make_body()
        started = time.perf_counter()
        status: int | str
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("POST", path, body, headers)
            response = connection.getresponse()
            response.read()
            status = response.status
            connection.close()
        except OSError as exc:
            status = f"error {exc.__class__.__name__}"
        elapsed = time.perf_counter() - started
        with lock:
            stats["latencies"].append(elapsed)
            stats["statuses"][status] = stats["statuses"].get(status, 0) + 1


def post_for(seconds: float, port: int, key: str, requests, clients: int) -> dict:
    """Post from `clients` threads for `seconds`; latencies and status counts. `requests`
    yields (path, body maker) pairs; it is shared by the threads."""
    stats: dict = {"latencies": [], "statuses": {}}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    threads = [
        threading.Thread(target=client, args=(port, key, requests, stop_at, stats, lock))
        for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return stats


def workers_cpu(server: subprocess.Popen) -> float:
    """CPU seconds used so far by the gunicorn workers (children of the master)."""
    total = 0.0
    for worker in psutil.Process(server.pid).children(recursive=True):
        try:
            times = worker.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def run_mode(mode: str, args) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix=f"bench-ingest-{mode}-"))
    database_url = args.database_url or f"sqlite:///{data_dir / 'db.sqlite3'}"
    env = dict(
        os.environ, DATABASE_URL=database_url, DATA_DIR=str(data_dir), LOG_LEVEL="ERROR",
        INGEST_START_RUNS="1" if mode == "on" else "0", CELERY_BROKER_URL="",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
    )  # fmt: skip
    if args.database_url:
        manage(env, "flush", "--noinput")
    manage(env, "migrate", "--noinput", "-v", "0")
    key = manage(env, "create_api_key", f"bench-{mode}-{time.time_ns()}").splitlines()[-1]
    port = free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    server = subprocess.Popen(
        [gunicorn, "config.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "2",
         "--timeout", "120", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(env.get("DATA_DIR", tempfile.gettempdir()), "gunicorn.log"), "w"),  # noqa: SIM115
    )  # fmt: skip
    try:
        wait_for(port)
        batches = alert_requests(iter(range(1, 10**9)))
        if args.warmup > 0:
            post_for(args.warmup, port, key, batches, args.clients)
        before = count_rows(env, database_url)
        if mode == "on":  # runs of the warm-up finish first, so the window does not pay them
            before = drain(env, database_url, before, args.drain)
        cpu_before = workers_cpu(server)
        started = time.monotonic()
        stats = post_for(args.seconds, port, key, batches, args.clients)
        elapsed = time.monotonic() - started
        cpu = workers_cpu(server) - cpu_before
        after = count_rows(env, database_url)
        if mode == "on":  # let the runs started during the window finish, for the record
            after = drain(env, database_url, after, args.drain)
    finally:
        server.terminate()
        server.wait(30)
    latencies = sorted(stats["latencies"])
    return {
        "mode": mode,
        "elapsed": elapsed,
        "requests": len(latencies),
        "statuses": stats["statuses"],
        "alerts": after["alerts"] - before["alerts"],
        "incidents": after["incidents"] - before["incidents"],
        "runs": after["runs"] - before["runs"],
        "runs_done": after["runs_done"] - before["runs_done"],
        "cpu_ms": cpu * 1000 / len(latencies) if latencies else 0.0,
        "p50": statistics.median(latencies) if latencies else 0.0,
        "p99": latencies[int(len(latencies) * 0.99) - 1] if latencies else 0.0,
        "max": latencies[-1] if latencies else 0.0,
    }


def drain(env: dict, database_url: str, counts: dict, seconds: float) -> dict:
    """Wait up to `seconds` until every started run has finished; the last counts."""
    deadline = time.monotonic() + seconds
    while counts["runs_done"] < counts["runs"] and time.monotonic() < deadline:
        time.sleep(1)
        counts = count_rows(env, database_url)
    return counts


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="Posting time per mode.")
    parser.add_argument("--clients", type=int, default=6, help="Concurrent posting threads.")
    parser.add_argument("--modes", default="off,on", help="off (no runs), on (runs), or both.")
    parser.add_argument("--drain", type=float, default=60.0,
                        help="With runs on: seconds to wait for started runs to finish.")  # fmt: skip
    parser.add_argument("--warmup", type=float, default=2.0,
                        help="Seconds of posting before the counted window.")  # fmt: skip
    parser.add_argument("--database-url", default="", help="Default: a fresh SQLite file.")
    args = parser.parse_args()
    database = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite (WAL)"
    print(f"ingest: gunicorn -w 2 on loopback, {database}, {ALERTS_PER_PAYLOAD} alerts/payload, "
          f"{args.clients} clients, {args.seconds:.0f} s per mode after {args.warmup:.0f} s "
          f"warm-up; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
    for mode in args.modes.split(","):
        r = run_mode(mode.strip(), args)
        rate = r["alerts"] / r["elapsed"]
        print(f"  runs {r['mode']:<3}: {rate:8.0f} alerts/s stored  "
              f"({r['alerts']} alerts, {r['incidents']} incidents, {r['requests']} requests "
              f"in {r['elapsed']:.1f} s; server CPU {r['cpu_ms']:.1f} ms/request; "
              f"p50 {r['p50'] * 1000:.0f} ms, "
              f"p99 {r['p99'] * 1000:.0f} ms, max {r['max'] * 1000:.0f} ms; "
              f"statuses {r['statuses']})")  # fmt: skip
        if r["mode"] == "on":
            print(f"           runs started in the window {r['runs']}, finished {r['runs_done']} "
                  f"(after the window + up to {args.drain:.0f} s drain)")  # fmt: skip
    print("  target: >= 1500 alerts/s with runs off")


if __name__ == "__main__":
    main()
