"""Fixtures for notify tests: tiny backoff, a real SMTP server, realistic message contexts."""

import socket
import threading
from datetime import UTC, datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from apps.alerts.models import Incident


@pytest.fixture(autouse=True)
def fast_notify(settings) -> None:
    settings.NOTIFY_BACKOFF_S = 0.01
    settings.NOTIFY_BACKOFF_MAX_S = 0.05
    settings.NOTIFY_MAX_ATTEMPTS = 3
    settings.NOTIFY_THROTTLE_S = 900
    settings.OUTBOUND_TIMEOUT_S = 5.0
    for name in ("SLACK_WEBHOOK_URL", "PAGERDUTY_ROUTING_KEY", "GENERIC_WEBHOOK_URL", "NTFY_URL"):
        setattr(settings, name, "")
    settings.NOTIFY_EMAIL_TO = []
    settings.PUBLIC_BASE_URL = ""


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[dict[str, Any]] = field(default_factory=list)

    def parsed(self, index: int = -1) -> EmailMessage:
        return message_from_bytes(self.messages[index]["data"], policy=policy.default)  # type: ignore[return-value]


class _Recorder:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.lock:
            self.sink.messages.append(
                {
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": list(envelope.rcpt_tos),
                    "data": envelope.original_content or envelope.content,
                }
            )
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_sink(settings) -> Iterator[SmtpSink]:
    with socket.socket() as probe:  # a free port: aiosmtpd's start-up check cannot use port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = SmtpSink(host="127.0.0.1", port=port)
    controller = Controller(_Recorder(sink), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_HOST = sink.host
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def incident(db) -> Incident:
    return Incident.objects.create(
        created_at=datetime(2020, 2, 6, 0, 18, tzinfo=UTC),
        title="High CPU Temperature",
        severity="critical",
        host="web-01",
        group_key="High CPU Temperature|web-01",
        source="alertmanager",
    )
