"""Realistic message contexts shared by the notify tests."""

from typing import Any

from apps.alerts.models import Incident
from tests.conftest import load_payload

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
    "host": {"hostname": "web-01", "os": "Linux"},
}


def incident_dict(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.pk,
        "title": incident.title,
        "status": incident.status,
        "severity": incident.severity,
        "host": incident.host,
        "created_at": incident.created_at.isoformat(),
    }


def make_context(incident: Incident | None = None, **overrides: Any) -> dict[str, Any]:
    payload = load_payload("alertmanager/v4_firing_two_alerts.json")
    context = {
        "payload": payload,
        "incident": incident_dict(incident) if incident else None,
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
