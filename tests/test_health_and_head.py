"""/healthz over real HTTP (database, Redis and RabbitMQ brokers on this machine), and HEAD
answered like GET without a body."""

import json
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client

from apps.common.models import SCOPES, ApiKey


def call(url: str, method: str = "GET", headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (test server)
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def no_broker(settings):
    settings.CELERY_BROKER_URL = ""
    settings.METRICS_TOKEN = ""


@pytest.mark.django_db(transaction=True)
def test_healthy_database(live_server, no_broker):
    status, headers, body = call(f"{live_server.url}/healthz")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"status": "ok", "checks": {"database": "ok", "storage": "ok"}}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "broker", ["redis://127.0.0.1:6379/14", "amqp://guest:guest@127.0.0.1:5672//"]
)
def test_reachable_broker(live_server, no_broker, settings, broker):
    settings.CELERY_BROKER_URL = broker
    status, _, body = call(f"{live_server.url}/healthz")
    assert (status, json.loads(body)["checks"]["broker"]) == (200, "ok")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("broker", ["redis://127.0.0.1:1/0", "amqp://guest:guest@127.0.0.1:1//"])
def test_unreachable_broker_is_503(live_server, no_broker, settings, broker):
    settings.CELERY_BROKER_URL = broker
    status, _, body = call(f"{live_server.url}/healthz")
    answer = json.loads(body)
    assert status == 503 and answer["status"] == "unavailable"
    assert answer["checks"]["database"] == "ok" and answer["checks"]["broker"] != "ok"
    assert "\n" not in answer["checks"]["broker"]


@pytest.mark.django_db
def test_broker_failure_never_shows_its_password(client, no_broker, settings):
    settings.CELERY_BROKER_URL = "amqp://guest:wrong-s3cret@127.0.0.1:5672//"
    response = client.get("/healthz", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 503
    assert "ACCESS_REFUSED" in response.json()["checks"]["broker"]  # RabbitMQ said why
    assert b"wrong-s3cret" not in response.content


def test_a_failure_message_with_a_url_is_redacted():
    from apps.common.health import failure_line as one_line

    text = one_line(OSError("cannot reach amqp://ops:hunter2@10.0.0.5:5672// (timed out)"))
    assert "hunter2" not in text and "10.0.0.5" in text and "\n" not in text


@pytest.mark.django_db
def test_database_failure_is_503(client, no_broker, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("unable to open database file")

    # class-wide: the check runs in its own thread, with that thread's own connection
    monkeypatch.setattr(BaseDatabaseWrapper, "cursor", broken)
    response = client.get("/healthz", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "OperationalError: unable to open database file"


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield listener.getsockname()[1]
    listener.close()


@pytest.mark.django_db
@pytest.mark.parametrize("scheme", ["redis://", "amqp://guest:guest@"])
def test_a_broker_that_never_answers_fails_within_the_bound(
    client, no_broker, settings, silent_server, scheme
):
    settings.CELERY_BROKER_URL = f"{scheme}127.0.0.1:{silent_server}/0"
    started = time.monotonic()
    response = client.get("/healthz", REMOTE_ADDR="127.0.0.1")
    assert time.monotonic() - started < 3.5
    assert response.status_code == 503 and response.json()["checks"]["broker"] != "ok"


@pytest.mark.django_db
def test_a_database_that_never_answers_fails_in_time_and_the_endpoint_recovers(
    client, no_broker, silent_server, monkeypatch
):
    from django.db import connections
    from django.db.backends.postgresql.base import DatabaseWrapper as PostgresWrapper

    real_create = connections.create_connection

    def silent_postgres(alias):
        settings_dict = {
            **real_create(alias).settings_dict,
            "ENGINE": "django.db.backends.postgresql",
            "HOST": "127.0.0.1",
            "PORT": str(silent_server),
            "NAME": "nothing",
            "USER": "nobody",
            "PASSWORD": "",
            "OPTIONS": {},
        }
        return PostgresWrapper(settings_dict, alias)

    monkeypatch.setattr(connections, "create_connection", silent_postgres)
    started = time.monotonic()
    answers = []
    workers = [
        threading.Thread(
            target=lambda: answers.append(Client().get("/healthz", REMOTE_ADDR="127.0.0.1"))
        )
        for _ in range(12)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert time.monotonic() - started < 6
    assert [a.status_code for a in answers] == [503] * 12
    monkeypatch.setattr(connections, "create_connection", real_create)  # the database is back
    time.sleep(2.5)  # the hung checks end at their own connect timeout
    assert client.get("/healthz", REMOTE_ADDR="127.0.0.1").status_code == 200


def test_a_password_that_breaks_url_parsing_is_still_masked():
    from apps.common.health import broker_check

    answer = broker_check("redis://:Zx9/Qm2kLp@127.0.0.1:6379/0")
    assert answer != "ok" and "Zx9" not in answer and "Qm2kLp" not in answer
    for url in ("redis://:Hunter2Pass#xyz@127.0.0.1:6379/0", "amqp://guest:Hunter2Pass?q@h:1//"):
        answer = broker_check(url)
        assert answer != "ok" and "Hunter2Pass" not in answer


@pytest.mark.django_db
def test_same_access_policy_as_metrics(client, settings):
    settings.CELERY_BROKER_URL, settings.METRICS_TOKEN = "", ""
    far = client.get("/healthz", REMOTE_ADDR="203.0.113.9")
    assert far.status_code == 403 and b"/healthz" in far.content
    settings.METRICS_TOKEN = "s3cret"
    assert client.get("/healthz", REMOTE_ADDR="203.0.113.9").status_code == 401
    allowed = client.get("/healthz", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret")
    assert allowed.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_head_is_get_without_a_body(live_server, no_broker):
    _, raw = ApiKey.create_key("head", list(SCOPES))
    auth = {"Authorization": f"Bearer {raw}"}
    get_status, get_headers, get_body = call(f"{live_server.url}/api/runs/", headers=auth)
    status, headers, body = call(f"{live_server.url}/api/runs/", "HEAD", auth)
    assert (get_status, status, body) == (200, 200, b"")
    assert headers["Content-Length"] == str(len(get_body)) != "0"
    assert call(f"{live_server.url}/healthz", "HEAD")[:1] == (200,)
    assert call(f"{live_server.url}/api/runs/", "HEAD")[0] == 401  # still needs its key
    assert call(f"{live_server.url}/api/alerts/", "HEAD", auth)[0] == 405  # POST-only webhook
