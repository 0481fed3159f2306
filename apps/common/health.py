"""GET /healthz: can this process reach its database (and its broker, when one is set), and
write to DATA_DIR with room to spare?

For load balancers, orchestrators and `docker compose`: 200 with every check "ok", else 503 with
what failed. Same access policy as /metrics (loopback, or METRICS_TOKEN).
"""

import contextlib
import errno
import os
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from apps.common.metrics import access_denied
from apps.common.redact import REDACTED, redact_text

CHECK_TIMEOUT_S = 2.0
MAX_CHECKS_IN_FLIGHT = 8
_checks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="healthz")
_in_flight = threading.BoundedSemaphore(MAX_CHECKS_IN_FLIGHT)


def failure_line(exc: BaseException, url: str = "") -> str:
    """The failure in one line, with any password (in a URL, or taken from `url`) masked."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    for secret in url_secrets(url):
        text = text.replace(secret, REDACTED)
    return redact_text(text)[:200]


def url_secrets(url: str) -> list[str]:
    """The userinfo of a URL and its pieces, longest first: an error about a URL that does not
    parse (a password holding '/') can quote any of them."""
    rest = url.partition("://")[2]
    userinfo = rest.rpartition("@")[0]
    pieces = {userinfo, *re.split(r"[:/@#?\[\]]", userinfo)} if userinfo else set()
    return sorted((piece for piece in pieces if len(piece) >= 3), key=len, reverse=True)


def database_check() -> str:
    """SELECT 1 on a connection of its own, opened with a connect timeout, always closed."""
    database = connections.create_connection(DEFAULT_DB_ALIAS)
    options = dict(database.settings_dict.get("OPTIONS") or {})
    if database.vendor in ("postgresql", "mysql"):
        options["connect_timeout"] = int(CHECK_TIMEOUT_S)
    elif database.vendor == "sqlite":
        options["timeout"] = CHECK_TIMEOUT_S
    database.settings_dict = {**database.settings_dict, "OPTIONS": options}
    try:
        with database.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure is the answer, not an error of this view
        return failure_line(exc)
    finally:
        database.close()
    return "ok"


def broker_check(url: str) -> str:
    try:
        if url.startswith(("redis://", "rediss://", "unix://")):
            import redis

            client = redis.Redis.from_url(
                url, socket_timeout=CHECK_TIMEOUT_S, socket_connect_timeout=CHECK_TIMEOUT_S
            )
            try:
                client.ping()
            finally:
                client.close()
        else:
            from kombu import Connection

            with Connection(url, connect_timeout=CHECK_TIMEOUT_S) as broker:
                broker.ensure_connection(max_retries=1, interval_start=0, timeout=CHECK_TIMEOUT_S)
    except Exception as exc:
        return failure_line(exc, url)
    return "ok"


def storage_check(path: Path, min_free_mb: float) -> str:
    """DATA_DIR can take a write (a small file written, synced and removed) and keeps at least
    min_free_mb free: a full disk or a read-only mount is named here, not as a busy database."""
    try:
        stats = os.statvfs(path)
    except OSError as exc:
        return f"DATA_DIR {path} cannot be read: {exc.strerror or exc}"
    free_mb = stats.f_bavail * stats.f_frsize / 1024 / 1024
    if free_mb < min_free_mb:
        return (
            f"disk full: {free_mb:.1f} MB free for DATA_DIR {path}, "
            f"below DATA_DIR_MIN_FREE_MB={min_free_mb:g}"
        )
    probe = path / f".healthz-{os.getpid()}-{threading.get_ident()}"
    try:
        with open(probe, "wb") as handle:
            handle.write(b"ok\n" * 1024)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            return f"disk full: DATA_DIR {path} cannot take a 3 KB write"
        return f"DATA_DIR {path} is not writable: {exc.strerror or exc}"
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    return "ok"


def run_checks() -> dict[str, str]:
    """Every check at once, all within one deadline: a server that accepts the connection and
    never answers fails its check instead of hanging the request. At most MAX_CHECKS_IN_FLIGHT
    checks run at a time, so probes against a hung backend cannot pile up threads."""
    wanted: dict[str, Callable[[], str]] = {
        "database": database_check,
        "storage": partial(storage_check, Path(settings.DATA_DIR), settings.DATA_DIR_MIN_FREE_MB),
    }
    if settings.CELERY_BROKER_URL:
        wanted["broker"] = partial(broker_check, settings.CELERY_BROKER_URL)
    deadline = time.monotonic() + CHECK_TIMEOUT_S + 0.5
    pending, results = {}, {}
    for name, check in wanted.items():
        if not _in_flight.acquire(blocking=False):
            results[name] = "not checked: earlier checks are still waiting for an answer"
            continue
        future = _checks.submit(check)
        future.add_done_callback(lambda _: _in_flight.release())
        pending[name] = future
    for name, future in pending.items():
        try:
            results[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            future.cancel()
            results[name] = f"no answer within {CHECK_TIMEOUT_S:g} s"
    return {name: results[name] for name in wanted}


@csrf_exempt
@require_GET
def health_view(request: HttpRequest) -> HttpResponse:
    denied = access_denied(request, "/healthz")
    if denied is not None:
        return denied
    checks = run_checks()
    healthy = all(result == "ok" for result in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )
