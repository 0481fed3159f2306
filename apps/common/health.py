"""GET /healthz: can this process reach its database (and its broker, when one is set)?

For load balancers, orchestrators and `docker compose`: 200 with every check "ok", else 503 with
what failed. Same access policy as /metrics (loopback, or METRICS_TOKEN).
"""

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from apps.common.metrics import access_denied
from apps.common.redact import redact_text

BROKER_TIMEOUT_S = 2


def one_line(exc: BaseException) -> str:
    """The failure in one line, with any password in a URL or secret value masked."""
    return redact_text(" ".join(f"{type(exc).__name__}: {exc}".split()))[:200]


def database_check() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure is the answer, not an error of this view
        return one_line(exc)
    return "ok"


def broker_check(url: str) -> str:
    try:
        if url.startswith(("redis://", "rediss://", "unix://")):
            import redis

            client = redis.Redis.from_url(
                url, socket_timeout=BROKER_TIMEOUT_S, socket_connect_timeout=BROKER_TIMEOUT_S
            )
            try:
                client.ping()
            finally:
                client.close()
        else:
            from kombu import Connection

            with Connection(url, connect_timeout=BROKER_TIMEOUT_S) as broker:
                broker.ensure_connection(max_retries=1)
    except Exception as exc:
        return one_line(exc)
    return "ok"


@csrf_exempt
@require_GET
def health_view(request: HttpRequest) -> HttpResponse:
    denied = access_denied(request, "/healthz")
    if denied is not None:
        return denied
    checks = {"database": database_check()}
    if settings.CELERY_BROKER_URL:
        checks["broker"] = broker_check(settings.CELERY_BROKER_URL)
    healthy = all(result == "ok" for result in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )
