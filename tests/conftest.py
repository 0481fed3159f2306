"""Shared test fixtures: real local servers instead of mocks."""

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
PAYLOADS = FIXTURES / "payloads"


def load_payload(relative: str) -> Any:
    return json.loads((PAYLOADS / relative).read_text())


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpSink:
    """A real HTTP server on loopback that records requests and answers from a script."""

    url: str = ""
    requests: list[RecordedRequest] = field(default_factory=list)
    # Each entry: (status, headers, body) consumed per request; the last one repeats.
    responses: list[tuple[int, dict[str, str], bytes]] = field(
        default_factory=lambda: [(200, {}, b"ok")]
    )
    delay_s: float = 0.0

    def respond(self, status: int, body: bytes | str = b"", headers: dict | None = None) -> None:
        raw = body.encode() if isinstance(body, str) else body
        self.responses = [(status, headers or {}, raw)]

    def script(self, *responses: tuple[int, dict[str, str], bytes]) -> None:
        self.responses = list(responses)


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def isolated_cache(settings):
    """Each test gets an empty in-process cache (the default is a file cache shared by runs)."""
    from uuid import uuid4

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": uuid4().hex,
        }
    }


@pytest.fixture
def http_sink(settings) -> Iterator[HttpSink]:
    settings.OUTBOUND_ALLOW_PRIVATE = True
    sink = HttpSink()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with lock:
                sink.requests.append(
                    RecordedRequest(self.command, self.path, dict(self.headers.items()), body)
                )
                status, headers, reply = (
                    sink.responses.pop(0) if len(sink.responses) > 1 else sink.responses[0]
                )
            if sink.delay_s:
                threading.Event().wait(sink.delay_s)
            try:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up first (a timeout test): expected, not an error

        do_POST = do_PUT = do_GET = _handle

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    sink.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
