"""Fixtures for notify tests: tiny backoff, a real SMTP server, realistic message contexts."""

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from apps.alerts.models import Incident
from tests.conftest import load_payload


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


ANALYSIS = {
    "summary": "CPU temperature on web-01 is above the threshold on two cores.",
    "probable_cause": "A stuck fan or a runaway process heating the CPU.",
    "severity_assessment": "critical",
    "confidence": 0.7,
    "recommendations": [
        {
            "title": "Check fans",
            "detail": "Look at the fan RPM sensors.",
            "priority": "high",
            "commands": ["sensors"],
        },
        {
            "title": "Find hot processes",
            "detail": "List the top CPU users.",
            "priority": "medium",
            "commands": ["ps aux --sort=-%cpu | head"],
        },
        {"title": "Clean dust", "detail": "Schedule maintenance.", "priority": "low"},
        {"title": "Fourth", "detail": "Not shown in Slack.", "priority": "low"},
    ],
    "provider": "local",
}

HOST_CONTEXT = {
    "checks_run": 2,
    "checks": {
        "cpu": {"status": "critical", "message": "CPU 97%", "metrics": {}, "duration_ms": 1.0},
        "memory": {"status": "ok", "message": "memory 40%", "metrics": {}, "duration_ms": 1.0},
    },
    "summary": {"ok": 1, "warning": 0, "critical": 1, "unknown": 0},
    "host": "web-01",
    "source": "local",
    "available": True,
    "host_info": {"hostname": "web-01", "os": "Linux"},
}


def make_context(incident: Incident | None = None, **overrides: Any) -> dict[str, Any]:
    payload = load_payload("alertmanager/v4_firing_two_alerts.json")
    context = {
        "payload": payload,
        "incident": incident.as_dict() if incident else None,
        "alerts": [
            {
                "name": "High CPU Temperature",
                "host": "web-01",
                "severity": "critical",
                "status": "firing",
                "description": "CPU core temperature is 34.75C",
                "started_at": "2020-02-06T00:17:58Z",
            },
            {
                "name": "High CPU Temperature",
                "host": "web-01",
                "severity": "critical",
                "status": "firing",
                "description": "CPU core temperature is 17.625C",
                "started_at": "2020-02-06T00:17:58Z",
            },
        ],
        "analysis": ANALYSIS,
        "context": HOST_CONTEXT,
        "run_id": "",
        "trace_id": "trace-abc123",
        "source": "alertmanager",
        "environment": "test",
        "definition": {"name": "standard"},
    }
    context.update(overrides)
    return context


@pytest.fixture(name="make_context")
def make_context_fixture():
    """The function that builds a realistic message context (optionally for an incident)."""
    return make_context


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
