"""Webhook ingestion throughput: Alertmanager payloads posted to gunicorn (2 workers) on loopback.

Each payload is one Alertmanager v4 group of 10 firing alerts, every fingerprint new. Two shapes:
`new`, where every alert opens its own incident, and `join`, where each of 500 hosts carries one
alert name, so after the first 500 alerts every alert joins an open incident (the storm case).
The figure is alerts stored per second, counted in the database afterwards, for runs off
(INGEST_START_RUNS=0) and on. With runs on, every changed incident must get exactly one run; the
runs go where the deployment sends them: to Celery on Redis with --broker (enqueued; no Celery
worker is started, as in issue 17's table), or, without a broker, to `manage.py run_worker`,
started beside gunicorn as `make serve` does, which executes them on the same two cores.

The deployment the figure assumes: gunicorn's default sync workers (2, `-w 2`), no keep-alive
(every webhook is a new connection, as behind a reverse proxy), the project's SQLite settings
(WAL, synchronous=NORMAL) or PostgreSQL on the same host, DEBUG off. Each round posts for
--warmup seconds first, not counted: a fresh worker spends ~0.35 s of CPU on its first request,
and in the `join` shape the warm-up opens the 500 incidents. The load comes from wrk when
Debian's `wrk` is installed (a C load generator, a few microseconds per request; its Lua script
builds the same bodies as the Python client), else from Python threads, which take about half a
millisecond of CPU per request from the same two cores. The server's CPU per request is printed
too: on a shared 2-core machine it is the steadier number.
Targets (issue 17): >= 3,000 alerts/s on SQLite and on PostgreSQL with runs on (enqueued to
Celery), >= 1,500 without a broker.

Usage: python bench/bench_ingest.py [--seconds 10] [--clients 6] [--modes off,on]
       [--shapes new,join] [--warmup 2] [--load wrk|python] [--broker redis://127.0.0.1:6379/11]
       [--database-url postgres://...]   (default: a fresh SQLite file per round)
       [--web-workers 2]   (gunicorn's -w; the figures in the README are for 2)
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
from urllib.parse import urlsplit

import psutil
import wrk_load

# PostgreSQL settings need a secret key (SQLite makes its own): the bench's processes share this one.
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))

ROOT = Path(__file__).resolve().parent.parent
ALERTS_PER_PAYLOAD = 10
JOIN_HOSTS = 500  # the `join` shape's hosts: one alert name each, so one open incident each
WINDOW_START = 10**7  # batch numbers of the counted window (the warm-up counts from 1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def alert_labels(batch: int, index: int, shape: str) -> tuple[str, str, str]:
    """(alertname, instance, severity) of alert `index` of payload `batch`."""
    if shape == "join":
        host = (batch * ALERTS_PER_PAYLOAD + index) % JOIN_HOSTS
        severity = "critical" if host % 3 == 0 else "warning"  # a host's alerts agree
        return f"HostLoad{host}", f"node-{host}:9100", severity
    severity = "critical" if index % 3 == 0 else "warning"
    return f"BenchLoad{batch}", f"node-{batch}-{index}:9100", severity


def payload(batch: int, shape: str = "new") -> bytes:
    alerts = []
    for i in range(ALERTS_PER_PAYLOAD):
        name, instance, severity = alert_labels(batch, i, shape)
        alerts.append({
            "status": "firing",
            "labels": {"alertname": name, "instance": instance, "severity": severity,
                       "job": "node", "core": str(batch * ALERTS_PER_PAYLOAD + i)},
            "annotations": {"summary": f"load high on {instance}"},
            "startsAt": "2026-01-01T00:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.com/graph",
            "fingerprint": f"{batch * ALERTS_PER_PAYLOAD + i:016x}",
        })  # fmt: skip
    return json.dumps(
        {
            "version": "4",
            "groupKey": f'{{}}:{{job="node",batch="{batch}"}}',
            "status": "firing",
            "receiver": "project",
            "truncatedAlerts": 0,
            "groupLabels": {"job": "node"},
            "commonLabels": {"job": "node"},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.example.com",
            "alerts": alerts,
        }  # fmt: skip
    ).encode()


# The same bodies as payload(), built by wrk's Lua for batch START+1, START+2, ...
LUA_SCRIPT = r"""
wrk.method = "POST"
wrk.path = "/api/alerts/alertmanager/"
wrk.headers["Authorization"] = "Bearer KEY"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Connection"] = "close"
local batch = START
local shape = "SHAPE"
local alert = '{"status": "firing", "labels": {"alertname": "%s", "instance": "%s", '
  .. '"severity": "%s", "job": "node", "core": "%d"}, "annotations": {"summary": '
  .. '"load high on %s"}, "startsAt": "2026-01-01T00:00:00Z", "endsAt": '
  .. '"0001-01-01T00:00:00Z", "generatorURL": "http://prometheus.example.com/graph", '
  .. '"fingerprint": "%016x"}'
request = function()
  batch = batch + 1
  local parts = {}
  for i = 0, PER - 1 do
    local n = batch * PER + i
    local name, instance, severity
    if shape == "join" then
      local host = n % HOSTS
      name, instance = "HostLoad" .. host, "node-" .. host .. ":9100"
      severity = (host % 3 == 0) and "critical" or "warning"
    else
      name, instance = "BenchLoad" .. batch, "node-" .. batch .. "-" .. i .. ":9100"
      severity = (i % 3 == 0) and "critical" or "warning"
    end
    parts[#parts + 1] = string.format(alert, name, instance, severity, n, instance, n)
  end
  local body = '{"version": "4", "groupKey": "{}:{job=\\"node\\",batch=\\"' .. batch
    .. '\\"}", "status": "firing", "receiver": "project", "truncatedAlerts": 0, '
    .. '"groupLabels": {"job": "node"}, "commonLabels": {"job": "node"}, '
    .. '"commonAnnotations": {}, "externalURL": "http://alertmanager.example.com", '
    .. '"alerts": [' .. table.concat(parts, ", ") .. ']}'
  return wrk.format(nil, nil, nil, body)
end
"""


def lua_script(path: Path, key: str, shape: str, start: int) -> Path:
    text = (
        LUA_SCRIPT.replace("KEY", key).replace("START", str(start)).replace("SHAPE", shape)
        .replace("PER", str(ALERTS_PER_PAYLOAD)).replace("HOSTS", str(JOIN_HOSTS))
    )  # fmt: skip
    path.write_text(text)
    return path


def manage(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


COUNTS = {
    "alerts": "SELECT COUNT(*) FROM alerts_alert",
    "incidents": "SELECT COUNT(*) FROM alerts_incident",
    "runs": "SELECT COUNT(*) FROM orchestration_pipelinerun",
    "runs_done": "SELECT COUNT(*) FROM orchestration_pipelinerun "
    "WHERE status NOT IN ('PENDING', 'RUNNING')",
    # an incident with more than one run: a doubled run (every incident here changes once)
    "doubled": "SELECT COUNT(*) FROM (SELECT incident_id FROM orchestration_pipelinerun "
    "WHERE incident_id IS NOT NULL GROUP BY incident_id HAVING COUNT(*) > 1) AS d",
}


def count_rows(env: dict, database_url: str) -> dict[str, int]:
    """Every count from one snapshot: a request still committing when the load stops must not
    add its runs between the count of incidents and the count of runs."""
    if database_url.startswith("sqlite:///"):
        connection = sqlite3.connect(database_url[len("sqlite:///") :], timeout=30)
        try:
            connection.execute("BEGIN")
            return {name: connection.execute(sql).fetchone()[0] for name, sql in COUNTS.items()}
        finally:
            connection.rollback()
            connection.close()
    code = (
        "import json;from django.db import connection, transaction\n"
        "with transaction.atomic():\n"
        " c=connection.cursor();c.execute('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ')\n"
        f" q={COUNTS!r};out={{}}\n"
        " for k,s in q.items():\n  c.execute(s);out[k]=c.fetchone()[0]\n"
        "print(json.dumps(out))"
    )
    return json.loads(manage(env, "shell", "-c", code).strip().splitlines()[-1])


def alert_requests(batches, shape: str = "new"):
    """(path, body maker) for each batch: the body is built outside the shared lock."""
    for batch in batches:
        yield "/api/alerts/alertmanager/", lambda batch=batch: payload(batch, shape)


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


def python_load(port: int, key: str, shape: str, start: int, seconds: float, clients: int) -> dict:
    batches = alert_requests(iter(range(start + 1, start + 10**7)), shape)
    stats = post_for(seconds, port, key, batches, clients)
    latencies = sorted(stats["latencies"]) or [0.0]
    return {
        "requests": len(stats["latencies"]),
        "accepted": stats["statuses"].get(202, 0),
        "statuses": stats["statuses"],
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
        "max_ms": latencies[-1] * 1000,
    }


def wrk_run(port: int, key: str, shape: str, start: int, seconds: float, clients: int,
            data_dir: Path) -> dict:  # fmt: skip
    script = lua_script(data_dir / f"ingest-{shape}-{start}.lua", key, shape, start)
    done = wrk_load.run(script, port, seconds, clients)
    errors = done["socket_errors"]
    statuses = {202: done["requests"] - done["non_2xx"], "not 202": done["non_2xx"]}
    if errors != "none":
        statuses["socket errors"] = errors
    return {
        "requests": done["requests"],
        "accepted": done["requests"] - done["non_2xx"],
        "statuses": statuses,
        "p50_ms": done["p50_ms"],
        "p99_ms": done["p99_ms"],
        "max_ms": done.get("max_ms", done["p99_ms"]),
    }


def processes_cpu(*roots: subprocess.Popen) -> float:
    """CPU seconds used so far by these processes' children (gunicorn's workers) or, without
    children, by the process itself (run_worker)."""
    total = 0.0
    for root in roots:
        try:
            parent = psutil.Process(root.pid)
            members = parent.children(recursive=True) or [parent]
        except psutil.Error:
            continue
        for member in members:
            try:
                times = member.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
    return total


def workers_cpu(server: subprocess.Popen) -> float:
    """CPU seconds used so far by the gunicorn workers (children of the master)."""
    return processes_cpu(server)


def database_cpu(database_url: str) -> float:
    """CPU seconds used so far by the PostgreSQL backends serving this database (0 for SQLite)."""
    if not database_url.startswith("postgres"):
        return 0.0
    name = urlsplit(database_url).path.lstrip("/")
    total = 0.0
    for process in psutil.process_iter(["cmdline", "cpu_times"]):
        title = " ".join(process.info["cmdline"] or [])
        if title.startswith("postgres: ") and f" {name} " in title and process.info["cpu_times"]:
            total += process.info["cpu_times"].user + process.info["cpu_times"].system
    return total


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=open(log, "w"), start_new_session=True)  # noqa: SIM115 # fmt: skip


def run_round(shape: str, mode: str, args) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix=f"bench-ingest-{shape}-{mode}-"))
    database_url = args.database_url or f"sqlite:///{data_dir / 'db.sqlite3'}"
    broker = args.broker if mode == "on" else ""
    env = dict(
        os.environ, DATABASE_URL=database_url, DATA_DIR=str(data_dir), LOG_LEVEL="ERROR",
        INGEST_START_RUNS="1" if mode == "on" else "0", CELERY_BROKER_URL=broker,
        CELERY_RESULT_BACKEND=broker, DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
    )  # fmt: skip
    if args.database_url:
        manage(env, "flush", "--noinput")
    if broker:
        import redis

        redis.Redis.from_url(broker).flushdb()
    manage(env, "migrate", "--noinput", "-v", "0")
    key = manage(env, "create_api_key", f"bench-{mode}-{time.time_ns()}").splitlines()[-1]
    port = free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    server = start([gunicorn, "config.wsgi:application", "-b", f"127.0.0.1:{port}", "-w",
                    str(args.web_workers),
                    "--timeout", "120", "--log-level", "warning"], env, data_dir / "gunicorn.log")  # fmt: skip
    worker = None
    if mode == "on" and not broker:  # the single-machine set-up: run_worker executes the runs
        worker = start([sys.executable, "manage.py", "run_worker"], env, data_dir / "worker.log")
    use_wrk = args.load == "wrk" or (not args.load and wrk_load.available())

    def load(first: int, seconds: float) -> dict:
        if use_wrk:
            return wrk_run(port, key, shape, first, seconds, args.clients, data_dir)
        return python_load(port, key, shape, first, seconds, args.clients)

    try:
        wait_for(port)
        if args.warmup > 0:
            load(0, args.warmup)
        before = count_rows(env, database_url)
        if worker is not None:  # the warm-up's runs finish first: the window does not pay them
            before = drain(env, database_url, before, args.drain)
        cpu_before = processes_cpu(server), processes_cpu(worker) if worker else 0.0
        db_before = database_cpu(database_url)
        started = time.monotonic()
        stats = load(WINDOW_START, args.seconds)
        elapsed = time.monotonic() - started
        cpu = processes_cpu(server) - cpu_before[0]
        worker_cpu = (processes_cpu(worker) - cpu_before[1]) if worker else 0.0
        db_cpu = database_cpu(database_url) - db_before
        window = count_rows(env, database_url)
        after = drain(env, database_url, window, args.drain) if worker else window
    finally:
        for process in (server, worker):
            if process is not None:
                process.terminate()
                process.wait(30)
    requests = max(1, stats["requests"])
    delta = {name: after[name] - before[name] for name in after}
    return {
        **stats,
        "shape": shape,
        "mode": mode,
        "elapsed": elapsed,
        "alerts": window["alerts"] - before["alerts"],
        "incidents": window["incidents"] - before["incidents"],
        "runs": delta["runs"],
        "runs_in_window": window["runs_done"] - before["runs_done"],
        "runs_done": delta["runs_done"],
        "doubled": after["doubled"],
        "all_incidents": after["incidents"],
        "all_runs": after["runs"],
        "cpu_ms": cpu * 1000 / requests,
        "worker_ms": worker_cpu * 1000 / requests,
        "db_ms": db_cpu * 1000 / requests,
        "runner": ("Celery (enqueued)" if broker else "run_worker") if mode == "on" else "",
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


def report(r: dict, args) -> None:
    rate = r["alerts"] / r["elapsed"]
    runs = f"runs {r['mode']}" + (f" ({r['runner']})" if r["runner"] else "")
    print(f"  {r['shape']:<4} {runs:<30} {rate:7.0f} alerts/s stored  ({r['alerts']} alerts, "
          f"{r['incidents']} incidents opened, {r['requests']} requests in {r['elapsed']:.1f} s; "
          f"statuses {r['statuses']})")  # fmt: skip
    cpu = f"web {r['cpu_ms']:.2f}"
    if r["worker_ms"]:
        cpu += f", run_worker {r['worker_ms']:.2f}"
    if r["db_ms"]:
        cpu += f", PostgreSQL {r['db_ms']:.2f}"
    print(f"       CPU per request: {cpu} ms; p50 {r['p50_ms']:.0f} ms, "
          f"p99 {r['p99_ms']:.0f} ms")  # fmt: skip
    if r["mode"] == "on":
        # every incident of the database changed once (opened): one run each, none doubled
        exact = r["all_runs"] == r["all_incidents"] and not r["doubled"]
        line = (f"       runs: {r['runs']} started for {r['incidents']} incidents opened in the "
                f"window; in all {r['all_runs']} runs for {r['all_incidents']} incidents, "
                f"{r['doubled']} incidents with more than one run "
                f"({'exactly one each' if exact else 'NOT one each'})")  # fmt: skip
        if r["runner"] == "run_worker":
            line += (f"; finished {r['runs_in_window']} during the window, {r['runs_done']} "
                     f"after up to {args.drain:.0f} s")  # fmt: skip
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="Posting time per round.")
    parser.add_argument("--clients", type=int, default=6, help="Concurrent connections.")
    parser.add_argument("--modes", default="off,on", help="off (no runs), on (runs), or both.")
    parser.add_argument("--shapes", default="new,join",
                        help="new (every alert opens an incident), join (alerts join open "
                        "incidents), or both.")  # fmt: skip
    parser.add_argument("--broker", default="",
                        help="With runs on: enqueue them to Celery on this Redis URL (its "
                        "database is flushed); without it run_worker executes them.")  # fmt: skip
    parser.add_argument("--drain", type=float, default=60.0,
                        help="With run_worker: seconds to wait for started runs to finish.")  # fmt: skip
    parser.add_argument("--warmup", type=float, default=2.0,
                        help="Seconds of posting before the counted window.")  # fmt: skip
    parser.add_argument("--load", choices=["wrk", "python"], default="",
                        help="Load generator (default: wrk when installed).")  # fmt: skip
    parser.add_argument("--database-url", default="", help="Default: a fresh SQLite file.")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn's -w.")
    args = parser.parse_args()
    database = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite (WAL)"
    generator = "wrk" if args.load == "wrk" or (not args.load and wrk_load.available()) else (
        "Python threads")  # fmt: skip
    print(f"ingest: gunicorn -w 2 on loopback, {database}, {ALERTS_PER_PAYLOAD} alerts/payload, "
          f"{args.clients} connections from {generator}, {args.seconds:.0f} s per round after "
          f"{args.warmup:.0f} s warm-up; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    for shape in args.shapes.split(","):
        for mode in args.modes.split(","):
            report(run_round(shape.strip(), mode.strip(), args), args)
    print(
        "  targets: >= 3000 alerts/s with runs on (Celery) on SQLite and PostgreSQL; "
        ">= 1500 without a broker (run_worker)"
    )


if __name__ == "__main__":
    main()
