"""Console page times with 10,000 incidents and 100,000 runs stored in PostgreSQL.

The volume is written with bulk_create (tests/console/seed.py: one incident in ten open or
acknowledged, 100,000 runs with their nodes, an analysis and a delivery per incident), into
its own database, which is created and filled on the first run and reused after (--reseed to
start again). Each page is then requested in-process with Django's test client as a signed-in
viewer: a few warm-up requests, then --requests timed ones. Printed per page: median and 95th
percentile wall time, and the queries one request made. Target (issue 18): every page < 150 ms.

Usage: python bench/bench_console.py [--database-url postgres://...] [--incidents 10000]
       [--runs 100000] [--requests 30] [--reseed]
"""

import argparse
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

# PostgreSQL settings need a secret key (SQLite makes its own): the bench's processes share this one.
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ip_bench_console"


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()

    ensure_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("CACHE_URL", "locmem://")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from apps.alerts.models import Incident
    from apps.orchestration.models import PipelineRun
    from tests.console.conftest import user_in
    from tests.console.seed import seed

    call_command("migrate", verbosity=0)
    if args.reseed:
        call_command("flush", interactive=False, verbosity=0)
    if Incident.objects.count() < args.incidents or PipelineRun.objects.count() < args.runs:
        call_command("flush", interactive=False, verbosity=0)
        started = time.perf_counter()
        seed(args.incidents, args.runs)
        print(f"seeded {args.incidents} incidents, {args.runs} runs in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    from django.contrib.auth.models import User

    user = User.objects.filter(username="bench-viewer").first() or user_in(
        "console-viewers", "bench-viewer"
    )
    client = Client()
    client.force_login(user)
    active = Incident.objects.filter(status="open").order_by("id").values_list("id", flat=True)[0]
    busiest = (
        PipelineRun.objects.filter(incident_id=active).order_by("-id").values_list("id", flat=True)
    )
    pages = {
        "Now": "/",
        "Now (refresh)": "/?fragment=1",
        "Now, all statuses": "/?status=all",
        "Incident": f"/incidents/{active}",
        "Run": f"/runs/{busiest[0]}",
        "Definitions": "/definitions",
        "Definition": "/definitions/seeded",
        "Hosts": "/hosts",
    }
    print(f"{Incident.objects.count()} incidents, {PipelineRun.objects.count()} runs "
          f"({len(busiest)} on incident {active}); {args.requests} requests per page")  # fmt: skip
    print(f"{'page':<20} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
    worst = 0.0
    for label, path in pages.items():
        for _ in range(3):
            assert client.get(path).status_code == 200, path
        times = []
        for _ in range(args.requests):
            started = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        times.sort()
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        worst = max(worst, p95)
        print(f"{label:<20} {statistics.median(times):>10.1f} {p95:>8.1f} "
              f"{len(queries.captured_queries):>8}")  # fmt: skip
    print(f"slowest p95: {worst:.1f} ms (target < 150 ms)")
    sys.exit(0 if worst < 150 else 1)


if __name__ == "__main__":
    main()
