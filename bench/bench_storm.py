"""Time to page under an alert storm: webhook in, page out, measured end to end.

Starts gunicorn (-w 2), two workers (Celery on Redis, or `manage.py run_worker` with
--runner worker) and a notification sink (an HTTP server in this process, on loopback, that the
shipped alert-triage definition pages through its Slack driver: SLACK_WEBHOOK_URL). Then sends a
storm (default: 2,000 alerts from 200 hosts in 60 s, four vendors, one HostDown per host; see
_storm_traffic.py) on schedule, waits for every run, and reports: alerts/s accepted, incidents
opened, runs started, the p50/p95/p99 time from a webhook's arrival to its page's arrival at the
sink (all pages, criticals, warnings), the page of the critical sent last, and when the last run
finished. Exits 1 when an alert, an incident's run or a page is lost or doubled, or a run failed;
the speed targets (p99 < 5 s) are reported, not asserted.

Usage: python bench/bench_storm.py [--short] [--seconds 60] [--hosts 200]
       [--database-url postgres://...] [--redis-url redis://127.0.0.1:6379/12] [--runner celery]
--short is the CI mode: 100 hosts (1,000 alerts) in 30 s. The Redis database is flushed first.
"""

import argparse
import http.client
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from _storm_traffic import ALERTS_PER_HOST, INCIDENTS_PER_HOST, Request, storm
from bench_ingest import free_port, manage, wait_for

# PostgreSQL settings need a secret key (SQLite makes its own): the bench's processes share this one.
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))

ROOT = Path(__file__).resolve().parent.parent
RUN_IN_PAGE = re.compile(r"\brun (\d+)\b")
VENDORS = ["alertmanager", "grafana", "zabbix", "generic"]


class Sink:
    """The pager: records when each notification arrives and which run sent it."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, int | None]] = []
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrived = time.time()
                found = RUN_IN_PAGE.search(body.decode("utf-8", "replace"))
                with sink.lock:
                    sink.arrivals.append((arrived, int(found.group(1)) if found else None))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def send_storm(port: int, key: str, requests: list[Request], clients: int) -> list[dict]:
    """Send each request at its time (open loop: a slow server makes requests late, it does
    not slow the storm down); returns what each got."""
    results: list[dict] = []
    lock = threading.Lock()
    queue = iter(requests)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    start = time.time() + 0.5

    def client() -> None:
        while True:
            with lock:
                request = next(queue, None)
            if request is None:
                return
            delay = start + request.at_s - time.time()
            if delay > 0:
                time.sleep(delay)
            sent = time.time()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection.request("POST", request.path, request.body, headers)
                response = connection.getresponse()
                answer = response.read()
                status: int | str = response.status
                connection.close()
            except OSError as exc:
                status, answer = f"error {exc.__class__.__name__}", b""
            with lock:
                results.append({"request": request, "sent": sent, "answered": time.time(),
                                "status": status, "answer": answer})  # fmt: skip

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def start_processes(args, env: dict, data_dir: Path) -> list[subprocess.Popen]:
    port = env["BENCH_PORT"]
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    commands = [[gunicorn, "config.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "2",
                 "--timeout", "120", "--log-level", "warning"]]  # fmt: skip
    for number in range(1, args.workers + 1):
        if args.runner == "celery":
            commands.append([sys.executable, "-m", "celery", "-A", "config", "worker", "-Q",
                             "pipelines,notifications", "-c", str(args.concurrency),
                             "-n", f"storm{number}@%h", "--without-gossip", "--without-mingle",
                             "-l", "info"])  # fmt: skip
        else:
            commands.append([sys.executable, "manage.py", "run_worker",
                             "--threads", str(args.concurrency)])  # fmt: skip
    processes = []
    for number, command in enumerate(commands):
        log = open(data_dir / f"process-{number}.log", "w")  # noqa: SIM115 - lives with it
        processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True))  # fmt: skip
    wait_for(int(port))
    ready = "ready." if args.runner == "celery" else "run_worker:"
    deadline = time.monotonic() + 60
    for number in range(1, len(commands)):
        while ready not in (data_dir / f"process-{number}.log").read_text():
            if time.monotonic() > deadline or processes[number].poll() is not None:
                sys.exit("a worker did not start:\n" +
                         (data_dir / f"process-{number}.log").read_text()[-3000:])  # fmt: skip
            time.sleep(0.2)
    return processes


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, 15)
    for process in processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)


def prepare(args, data_dir: Path) -> tuple[dict, str]:
    database_url = args.database_url or f"sqlite:///{data_dir / 'db.sqlite3'}"
    env = dict(
        os.environ, DATABASE_URL=database_url, DATA_DIR=str(data_dir), LOG_LEVEL="ERROR",
        INGEST_START_RUNS="1", OUTBOUND_ALLOW_PRIVATE="1", DJANGO_ALLOWED_HOSTS="127.0.0.1",
        PIPELINE_RUNNER=args.runner, BENCH_PORT=str(free_port()),
        CELERY_BROKER_URL=args.redis_url if args.runner == "celery" else "",
        CELERY_RESULT_BACKEND=args.redis_url if args.runner == "celery" else "",
    )  # fmt: skip
    if args.database_url:
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "flush", "--noinput")
    manage(env, "migrate", "--noinput", "-v", "0")
    if args.runner == "celery":
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()
    shipped = json.loads((ROOT / "pipelines" / "alert-triage.json").read_text())
    # The figure is the time to each incident's own page: the shipped 30 s group_wait (which
    # would send the whole storm as one message, on purpose) is turned off here.
    for node in shipped.get("nodes", []):
        if node.get("type") == "notify":
            node.setdefault("config", {})["group_wait"] = "0s"
    routed = {"name": "alert-triage", "match": {"source": VENDORS}, "config": shipped}
    (data_dir / "alert-triage.json").write_text(json.dumps(routed))
    manage(env, "pipelines", "import", str(data_dir / "alert-triage.json"))
    key = manage(env, "create_api_key", f"storm-{time.time_ns()}").splitlines()[-1]
    return env, key


def wait_for_runs(deadline_s: float, expected_pages: int, sink: Sink) -> None:
    from apps.orchestration.models import PipelineRun

    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        open_runs = PipelineRun.objects.filter(status__in=["PENDING", "RUNNING"]).count()
        if not open_runs and len(sink.arrivals) >= expected_pages:
            return
        time.sleep(0.5)


def percentiles(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]

    return f"p50 {statistics.median(ordered):5.2f} s  p95 {at(0.95):5.2f} s  p99 {at(0.99):5.2f} s"


def report(args, requests: list[Request], results: list[dict], sink: Sink, began: float) -> int:
    from apps.alerts.models import Alert, Incident
    from apps.orchestration.models import PipelineRun

    problems: list[str] = []
    statuses = Counter(result["status"] for result in results)
    accepted = sum(r["request"].alerts for r in results if r["status"] == 202)
    window = max(r["answered"] for r in results) - min(r["sent"] for r in results)
    answer_times = sorted(r["answered"] - r["sent"] for r in results)
    expected_alerts = sum(request.alerts for request in requests)
    keys = {key for request in requests for key in request.group_keys}
    first_sent: dict[str, float] = {}
    for result in sorted(results, key=lambda r: r["sent"]):
        for key in result["request"].group_keys:
            first_sent.setdefault(key, result["sent"])
    alerts = Alert.objects.count()
    incidents = dict(Incident.objects.values_list("pk", "group_key"))
    critical = set(Incident.objects.filter(severity="critical").values_list("pk", flat=True))
    runs = list(PipelineRun.objects.values("pk", "incident_id", "status",
                                           "started_at", "finished_at"))  # fmt: skip
    runs_per_incident = Counter(run["incident_id"] for run in runs)
    pages = Counter(run_id for _, run_id in sink.arrivals)
    page_at: dict[int, float] = {}
    for arrived, run_id in sorted(sink.arrivals, key=lambda a: a[0]):
        if run_id is not None:
            page_at.setdefault(run_id, arrived)

    if statuses.get(202, 0) != len(requests):
        problems.append(f"not every webhook was accepted: {dict(statuses)}")
    if alerts != expected_alerts:
        problems.append(f"alerts stored {alerts}, sent {expected_alerts}")
    if set(incidents.values()) != keys or len(incidents) != len(keys):
        problems.append(f"incidents {len(incidents)}, expected {len(keys)} (one per name+host)")
    lost = [pk for pk in incidents if runs_per_incident[pk] == 0]
    doubled = [pk for pk, count in runs_per_incident.items() if count > 1]
    if lost or doubled:
        problems.append(f"incidents without a run: {lost[:10]}; with several: {doubled[:10]}")
    failed = [run["pk"] for run in runs if run["status"] != "COMPLETED"]
    if failed:
        problems.append(f"{len(failed)} runs did not complete: {failed[:10]}")
    unpaged = [run["pk"] for run in runs if pages[run["pk"]] == 0]
    repaged = [run_id for run_id, count in pages.items() if count > 1 or run_id is None]
    if unpaged or repaged:
        problems.append(f"runs not paged: {unpaged[:10]}; paged twice or unknown: {repaged[:10]}")

    by_severity: dict[str, list[float]] = {"all": [], "critical": [], "warning": []}
    last_page = None
    last_request = next(request for request in requests if request.last)
    for run in runs:
        key = incidents.get(run["incident_id"])
        if run["pk"] not in page_at or key not in first_sent:
            continue
        waited = page_at[run["pk"]] - first_sent[key]
        by_severity["all"].append(waited)
        by_severity["critical" if run["incident_id"] in critical else "warning"].append(waited)
        if key in last_request.group_keys:
            own = (run["finished_at"] - run["started_at"]).total_seconds()
            queued = run["started_at"].timestamp() - first_sent[key]
            last_page = (waited, own, queued)
    finished = [run["finished_at"].timestamp() for run in runs if run["finished_at"]]

    print(f"  alerts accepted : {accepted} in {window:.1f} s = {accepted / window:.0f} alerts/s "
          f"({len(results)} webhooks, answered p50 {statistics.median(answer_times) * 1000:.0f} "
          f"ms, p99 {answer_times[int(len(answer_times) * 0.99) - 1] * 1000:.0f} ms)")  # fmt: skip
    print(f"  alerts stored   : {alerts} of {expected_alerts}")
    print(f"  incidents opened: {len(incidents)} (expected {len(keys)})")
    print(f"  runs started    : {len(runs)} ({len(runs) - len(failed)} completed)")
    print(f"  pages at sink   : {len(sink.arrivals)} for {len(page_at)} runs")
    for name, values in by_severity.items():
        print(f"  time to page    : {name:<8} {percentiles(values)}  ({len(values)} pages)")
    if last_page:
        print(f"  critical sent last: paged {last_page[0]:.2f} s after its webhook "
              f"(waited {last_page[2]:.2f} s for a worker, its run took {last_page[1]:.2f} s)")  # fmt: skip
    if finished:
        print(f"  last run finished {max(finished) - began:.1f} s after the storm began "
              f"({args.seconds:.0f} s of sending)")  # fmt: skip
    every = sorted(by_severity["all"])
    p99 = every[max(0, int(len(every) * 0.99) - 1)] if every else 0
    print(f"  target: p99 time to page < 5 s: {'met' if p99 < 5 else 'NOT met'} (reported only)")
    for problem in problems:
        print(f"  FAIL: {problem}")
    return 1 if problems else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="Length of the storm.")
    parser.add_argument("--hosts", type=int, default=200, help="Hosts (10 alerts each).")
    parser.add_argument("--short", action="store_true", help="CI: 100 hosts in 30 s.")
    parser.add_argument("--runner", choices=["celery", "worker"], default="celery",
                        help="Celery workers on Redis, or manage.py run_worker (no broker).")  # fmt: skip
    parser.add_argument("--workers", type=int, default=2, help="Worker processes.")
    parser.add_argument("--concurrency", type=int, default=2, help="Runs at once per worker.")
    parser.add_argument("--clients", type=int, default=8, help="Sending threads.")
    parser.add_argument("--drain", type=float, default=300.0,
                        help="Seconds to wait after the storm for the runs and pages.")  # fmt: skip
    parser.add_argument("--database-url", default="", help="Default: a fresh SQLite file.")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12",
                        help="Broker for --runner celery (its database is flushed).")  # fmt: skip
    args = parser.parse_args()
    if args.short:
        args.seconds, args.hosts = 30.0, 100
    data_dir = Path(tempfile.mkdtemp(prefix="bench-storm-"))
    env, key = prepare(args, data_dir)
    sink = Sink()
    env["SLACK_WEBHOOK_URL"] = sink.url
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "DATA_DIR")})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    requests = storm(args.hosts, args.seconds)
    database = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite (WAL)"
    workers = (f"{args.workers} Celery workers -c {args.concurrency} on Redis"
               if args.runner == "celery" else
               f"{args.workers} run_worker --threads {args.concurrency}")  # fmt: skip
    print(f"storm: {args.hosts * ALERTS_PER_HOST} alerts from {args.hosts} hosts "
          f"({args.hosts * INCIDENTS_PER_HOST} incidents, {len(requests)} webhooks of "
          f"{', '.join(VENDORS)}) in {args.seconds:.0f} s; gunicorn -w 2, {workers}, "
          f"{database}; alert-triage paging a local sink")  # fmt: skip
    print(f"  machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    # SIGTERM ends the bench like Ctrl-C: the servers and workers it started are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    processes = start_processes(args, env, data_dir)
    try:
        began = time.time()
        results = send_storm(int(env["BENCH_PORT"]), key, requests, args.clients)
        wait_for_runs(args.drain, args.hosts * INCIDENTS_PER_HOST, sink)
        time.sleep(1.0)  # a page sent twice arrives within this
        code = report(args, requests, results, sink, began)
    finally:
        stop(processes)
    print(f"  load average {os.getloadavg()[0]:.1f} at the end; logs in {data_dir}")
    sys.exit(code)


if __name__ == "__main__":
    main()
