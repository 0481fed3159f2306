"""The node deadline bounds a whole delivery: attempts, their timeouts and the waits between."""

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from apps.common import http
from apps.notify import services
from apps.notify.delivery import throttle_reason
from apps.notify.models import Delivery

pytestmark = pytest.mark.django_db

SLOW_S = 0.4  # the server thinks this long before each 503


@pytest.fixture
def slow_503(settings) -> Iterator[dict[str, Any]]:
    """A real HTTP server on 127.0.0.1 that answers every POST with a slow 503."""
    settings.OUTBOUND_ALLOW_PRIVATE = True
    seen: dict[str, Any] = {"requests": 0}
    lock = threading.Lock()
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                seen["requests"] += 1
            stop.wait(SLOW_S)
            try:
                self.send_response(503)
                self.send_header("Content-Length", "4")
                self.end_headers()
                self.wfile.write(b"busy")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client's timeout came first

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    seen["url"] = f"http://127.0.0.1:{server.server_address[1]}/hook"
    # A process's first request imports httpx, httpcore and h11 and loads the CA bundle (up to
    # a second on a busy machine): blocking one-time costs no timeout can cut. Paid here (a GET
    # the server refuses at once), they are not measured.
    assert http.request("GET", seen["url"], timeout=5).status_code == 501
    try:
        yield seen
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.mark.parametrize("budget_s", [0.3, 1.0, 1.5])
def test_slow_503s_never_take_longer_than_the_deadline(slow_503, settings, make_context, budget_s):
    settings.NOTIFY_MAX_ATTEMPTS = 10
    settings.NOTIFY_BACKOFF_S = 0.05
    settings.NOTIFY_BACKOFF_MAX_S = 0.2
    settings.OUTBOUND_TIMEOUT_S = 5.0  # far longer than the deadline: the deadline must cut it
    # A first notify in the process also imports and compiles (templates, metrics): not measured.
    services.notify(config={"driver": "console"}, message_context=make_context(None))
    started = time.monotonic()
    deadline = started + budget_s
    result = services.notify(
        config={"driver": "generic", "url": slow_503["url"]},
        message_context=make_context(None),
        deadline=deadline,
    )
    finished = time.monotonic()
    (delivery,) = result["deliveries"]
    # Returning a little after the deadline is bookkeeping (saving the row), not a send.
    assert finished - deadline < 0.25, f"took {finished - started:.2f}s for {budget_s}s"
    assert delivery["status"] == "failed"
    assert "deadline" in delivery["error"], delivery["error"]
    assert delivery["attempts"] == slow_503["requests"]
    if budget_s > 2 * SLOW_S:
        assert delivery["attempts"] > 1  # it did retry, within the deadline
    row = Delivery.objects.get(driver="generic")
    assert row.duration_ms / 1000 < budget_s + 0.25


def _sent(incident, severity: str) -> Delivery:
    return Delivery.objects.create(
        driver="generic",
        target="generic:abc",
        incident=incident,
        kind="trigger",
        status="succeeded",
        severity=severity,
        sent_at=timezone.now(),
        idempotency_key=f"k-{severity}",
    )


@pytest.mark.parametrize(
    ("last", "now", "throttled"),
    [
        ("warning", "critical", False),
        ("warning", "error", False),  # error is critical
        ("info", "warning", False),
        ("critical", "error", True),
        ("critical", "warning", True),
        ("warning", "warning", True),
        ("warning", "something-else", True),  # an unknown word ranks as warning
    ],
)
def test_only_a_rise_in_severity_breaks_through_the_throttle(incident, last, now, throttled):
    _sent(incident, last)
    reason = throttle_reason(incident, "generic:abc", "trigger", now)
    assert bool(reason) is throttled, reason
