"""Prometheus metrics and the /metrics view.

Other apps call the small `record_*` functions; they never raise, so metrics can never break a
run. With PROMETHEUS_MULTIPROC_DIR set (gunicorn workers, Celery worker processes) every process
writes its samples to files in that directory and a scrape sums them (MultiProcessCollector).
Queue depth is not recorded by anyone: it is counted at scrape time.
"""

import hmac
import ipaddress
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from apps.common.text import one_line

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.core import Metric

logger = logging.getLogger(__name__)

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


@lru_cache(maxsize=1)
def instruments() -> SimpleNamespace:
    """This process's counters and histograms, created (and prometheus_client imported) on first
    use, so that commands that record nothing do not pay for it."""
    from prometheus_client import Counter, Histogram

    return SimpleNamespace(
        runs=Counter(
            "pipeline_runs_total",
            "Pipeline runs that finished, by definition and status.",
            ["definition", "status"],
        ),
        run_duration=Histogram(
            "pipeline_run_duration_seconds",
            "Wall time of finished pipeline runs.",
            ["definition"],
            buckets=DURATION_BUCKETS,
        ),
        node_duration=Histogram(
            "pipeline_node_duration_seconds",
            "Time a node took, all attempts included.",
            ["node_type", "status"],
            buckets=DURATION_BUCKETS,
        ),
        alerts=Counter(
            "alerts_ingested_total", "Alerts received and parsed, by source.", ["source"]
        ),
        deliveries=Counter(
            "notify_deliveries_total",
            "Notification deliveries, by driver and outcome.",
            ["driver", "outcome"],
        ),
    )


QUEUE_DEPTH = "pipeline_queue_depth"


def _label(value: Any, fallback: str = "unknown") -> str:
    text = str(value or "").strip()
    return text[:100] if text else fallback


def _safely(what: str, action: Any) -> None:
    try:
        action()
    except Exception:  # a metric must never fail the work it describes
        logger.debug("could not record %s metric", what, exc_info=True)


# --- what other apps call ----------------------------------------------------------------------


def run_label(run: Any) -> str:
    """The definition label of a run; runs of JSON files share one label (paths are unbounded)."""
    if getattr(run, "definition_name", ""):
        return _label(run.definition_name)
    if getattr(run, "config_path", ""):
        return "(config file)"
    return _label(getattr(run, "kind", ""), "standard")


def record_run(run: Any) -> None:
    """Count a finished PipelineRun (call once, when it reaches COMPLETED or FAILED)."""

    def action() -> None:
        label = run_label(run)
        run_series(label, _label(run.status)).inc()
        if run.duration_ms is not None:
            run_duration_series(label).observe(run.duration_ms / 1000)

    _safely("run", action)


# Definitions x statuses: bounded by the definitions stored; looked up once per run.
@lru_cache(maxsize=4096)
def run_series(definition: str, status: str) -> Any:
    return instruments().runs.labels(definition=definition, status=status)


@lru_cache(maxsize=4096)
def run_duration_series(definition: str) -> Any:
    return instruments().run_duration.labels(definition=definition)


@lru_cache(maxsize=1024)  # node types x statuses: a handful; looked up once per node run
def node_series(node_type: str, status: str) -> Any:
    return instruments().node_duration.labels(node_type=_label(node_type), status=_label(status))


def record_node(node_type: str, status: str, seconds: float | None) -> None:
    """Observe one node's duration (SUCCEEDED, FAILED or SKIPPED)."""

    def action() -> None:
        node_series(node_type, status).observe(max(0.0, float(seconds or 0.0)))

    _safely("node", action)


def record_alerts(source: str, count: int) -> None:
    """Count alerts parsed from one payload of `source`."""
    if count <= 0:
        return
    _safely("alerts", lambda: instruments().alerts.labels(source=_label(source)).inc(count))


def record_delivery(driver: str, outcome: str) -> None:
    """Count one delivery's final outcome: succeeded, failed or throttled."""
    _safely(
        "delivery",
        lambda: (
            instruments().deliveries.labels(driver=_label(driver), outcome=_label(outcome)).inc()
        ),
    )


# --- scrape-time queue depth -------------------------------------------------------------------


def celery_queue_names() -> list[str]:
    """The default queue plus every queue the Celery config declares or routes to."""
    from config.celery import app

    conf = app.conf
    names = {conf.task_default_queue or "celery"}
    for queue in conf.task_queues or []:
        names.add(getattr(queue, "name", str(queue)))
    routes = conf.task_routes or {}
    if isinstance(routes, dict):
        for route in routes.values():
            if isinstance(route, dict) and route.get("queue"):
                names.add(getattr(route["queue"], "name", str(route["queue"])))
    return sorted(names)


# Kombu's Redis transport keeps one list per priority step: `<queue>` for step 0 and
# `<queue>\x06\x16<step>` for the others (its default separator).
PRIORITY_SEPARATOR = "\x06\x16"


def priority_lists(queue: str) -> list[str]:
    """The Redis lists that hold a Celery queue's messages, one per configured priority step."""
    steps = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("priority_steps") or [0]
    return [queue if not step else f"{queue}{PRIORITY_SEPARATOR}{step}" for step in steps]


def redis_queue_lengths(broker_url: str) -> dict[str, int]:
    """Messages waiting in each Celery queue, summed over its priority lists."""
    import redis

    steps = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("priority_steps") or [0]
    client = redis.Redis.from_url(broker_url, socket_timeout=1, socket_connect_timeout=1)
    try:
        names = celery_queue_names()
        with client.pipeline() as pipe:
            for name in names:
                for key in priority_lists(name):
                    pipe.llen(key)
            sizes = pipe.execute()
        return {
            name: sum(int(size) for size in sizes[i * len(steps) : (i + 1) * len(steps)])
            for i, name in enumerate(names)
        }
    finally:
        client.close()


# Queue name -> a function counting the work waiting in it, registered by the apps that own
# the work (orchestration registers "pending_runs"), so this module imports no app.
WAITING_WORK: dict[str, Callable[[], int]] = {}


class QueueDepthCollector:
    """pipeline_queue_depth{queue}: PENDING runs in the database ("pending_runs") and, with a
    Redis broker, each Celery queue's length; pipeline_broker_up says if Redis answered."""

    def collect(self) -> Iterator["Metric"]:
        from prometheus_client.core import GaugeMetricFamily

        depth = GaugeMetricFamily(QUEUE_DEPTH, "Work waiting to be done.", labels=["queue"])
        for queue, count in WAITING_WORK.items():
            try:
                depth.add_metric([queue], count())
            except Exception as exc:  # the database is down: one line per scrape, no traceback
                logger.warning(
                    "metrics: could not count %s: %s",
                    queue,
                    one_line(f"{type(exc).__name__}: {exc}"),
                )
        broker_url = settings.CELERY_BROKER_URL
        if broker_url.startswith(("redis://", "rediss://", "unix://")):
            up = GaugeMetricFamily("pipeline_broker_up", "1 if the Redis broker answered.")
            try:
                for name, length in redis_queue_lengths(broker_url).items():
                    depth.add_metric([f"celery:{name}"], length)
                up.add_metric([], 1)
            except Exception as exc:
                logger.warning("metrics: Redis broker did not answer: %s", exc)
                up.add_metric([], 0)
            yield up
        yield depth


class _DefaultRegistry:
    """This process's metrics (single-process mode), including process and GC collectors."""

    def collect(self) -> Iterable["Metric"]:
        from prometheus_client import REGISTRY

        return REGISTRY.collect()


def scrape_registry() -> "CollectorRegistry":
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    instruments()  # the series exist (at zero) before anything was recorded
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_DefaultRegistry())  # type: ignore[arg-type]
    registry.register(QueueDepthCollector())  # type: ignore[arg-type]
    return registry


def render_metrics() -> bytes:
    from prometheus_client import generate_latest

    return generate_latest(scrape_registry())


# --- the view ----------------------------------------------------------------------------------


def token_ok(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return True
    scheme, _, given = request.headers.get("Authorization", "").strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def from_loopback(request: HttpRequest) -> bool:
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def access_denied(request: HttpRequest, what: str) -> HttpResponse | None:
    """The operations endpoints' policy (/metrics, /healthz): loopback clients, or with
    METRICS_TOKEN set, anyone holding it. None when the request may go on."""
    if not settings.METRICS_TOKEN and not from_loopback(request):
        return HttpResponse(
            f"403 Forbidden: {what} is open to loopback clients only; set METRICS_TOKEN to "
            "reach it from elsewhere\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    if not token_ok(request):
        response = HttpResponse(
            "401 Unauthorized: send 'Authorization: Bearer <METRICS_TOKEN>'\n",
            status=401,
            content_type="text/plain; charset=utf-8",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return None


@csrf_exempt  # a scraper has no CSRF cookie: a POST should be a plain 405, not the HTML page
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """GET /metrics: open to loopback clients; with METRICS_TOKEN set, to anyone holding it."""
    denied = access_denied(request, "/metrics")
    if denied is not None:
        return denied
    from prometheus_client import CONTENT_TYPE_LATEST

    return HttpResponse(render_metrics(), content_type=CONTENT_TYPE_LATEST)
