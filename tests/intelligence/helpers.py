"""Build Incident/Alert rows from the real vendor payloads, and synthetic context outputs.

The field picks follow tests/fixtures/payloads/README.md ("What a parser should extract");
they are deliberately simple so these tests do not depend on the alerts app's parsers.
"""

import itertools
import json
from typing import Any

from apps.alerts.models import Alert, Incident
from tests.conftest import load_payload

_counter = itertools.count(1)
RESOLVED_WORDS = {"resolved", "ok", "closed", "recovered", "close"}
SEVERITY_WORDS = {
    "critical": "critical",
    "disaster": "critical",
    "high": "critical",
    "p1": "critical",
    "warning": "warning",
    "average": "warning",
    "medium": "warning",
    "p2": "warning",
    "info": "info",
    "information": "info",
    "low": "info",
}


def _severity(value: Any) -> str:
    return SEVERITY_WORDS.get(str(value or "").strip().lower(), "warning")


def _status(value: Any) -> str:
    return "resolved" if str(value or "").strip().lower() in RESOLVED_WORDS else "firing"


def alerts_from_fixture(relative: str) -> list[dict[str, Any]]:
    body = load_payload(relative)
    vendor = relative.split("/")[0]
    if "alerts" in body:  # Alertmanager and Grafana unified
        return [
            {
                "name": a["labels"].get("alertname", "?"),
                "status": _status(a.get("status") or body.get("status")),
                "severity": _severity(a["labels"].get("severity")),
                "host": a["labels"].get("instance") or a["labels"].get("host") or "",
                "description": a.get("annotations", {}).get("description")
                or a.get("annotations", {}).get("summary", ""),
                "labels": a["labels"],
                "annotations": a.get("annotations", {}),
                "fingerprint": a.get("fingerprint") or json.dumps(a["labels"], sort_keys=True),
            }
            for a in body["alerts"]
        ]
    if vendor == "grafana":  # legacy
        tags = (body.get("evalMatches") or [{}])[0].get("tags") or {}
        return [
            {
                "name": body["ruleName"],
                "status": "firing" if body["state"] == "alerting" else "resolved",
                "severity": "warning",
                "host": tags.get("instance", ""),
                "description": body.get("message", ""),
                "fingerprint": str(body["ruleId"]),
            }
        ]
    if vendor == "zabbix":
        return [
            {
                "name": body["trigger"],
                "status": _status(body["status"]),
                "severity": _severity(body["severity"]),
                "host": body["hostname"],
                "description": body["item"],
                "fingerprint": body["link"].split("triggerid=")[1].split("&")[0],
            }
        ]
    if vendor == "newrelic" and "issueUrl" in body:
        return [
            {
                "name": body["title"],
                "status": _status(body["state"]),
                "severity": _severity(body["priority"]),
                "host": (body.get("impactedEntities") or [""])[0],
                "description": "",
                "fingerprint": body["id"],
            }
        ]
    if vendor == "newrelic":
        return [
            {
                "name": body["condition_name"],
                "status": "resolved" if body["current_state"] == "closed" else "firing",
                "severity": _severity(body.get("severity")),
                "host": "",
                "description": body.get("details", ""),
                "fingerprint": str(body["incident_id"]),
            }
        ]
    if vendor == "generic" and "incident" in body:
        incident = body["incident"]
        return [
            {
                "name": incident["condition_name"],
                "status": _status(incident["state"]),
                "severity": "warning",
                "host": incident["resource_name"],
                "description": incident["summary"],
                "fingerprint": incident["incident_id"],
            }
        ]
    if vendor == "datadog":
        return [
            {
                "name": body["title"],
                "status": _status(body["alert_transition"]),
                "severity": _severity(body.get("severity") or "warning"),
                "host": "",
                "description": body["body"],
                "fingerprint": f"{body['monitor_id']}:{body['scopes']}",
            }
        ]
    if vendor == "pagerduty" and "event" in body:
        data = body["event"]["data"]
        return [
            {
                "name": data["title"],
                "status": _status(data["status"]),
                "severity": _severity(data.get("urgency")),
                "host": "",
                "description": "",
                "fingerprint": data["id"],
            }
        ]
    raise AssertionError(f"no extraction rule for {relative}")


def incident_from_fixture(relative: str, **overrides: Any) -> Incident:
    """An Incident with one Alert per alert in the payload, as ingest would store them."""
    alerts = alerts_from_fixture(relative)
    firing = [a for a in alerts if a["status"] == "firing"]
    first = (firing or alerts)[0]
    number = next(_counter)
    incident = Incident.objects.create(
        title=overrides.get("title", first["name"]),
        status="open" if firing else "resolved",
        severity=max((a["severity"] for a in alerts), key=["info", "warning", "critical"].index),
        group_key=f"{relative}#{number}",
        source=relative.split("/")[0],
        host=overrides.get("host", first["host"]),
    )
    for index, alert in enumerate(alerts):
        Alert.objects.create(
            source=incident.source,
            fingerprint=f"{alert['fingerprint']}#{number}.{index}",
            group_key=incident.group_key,
            name=alert["name"],
            status=alert["status"],
            severity=alert["severity"],
            host=alert["host"],
            description=alert["description"],
            labels=alert.get("labels", {}),
            annotations=alert.get("annotations", {}),
            incident=incident,
        )
    return incident


def context(**checks: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """A context node output: context(memory=("critical", {"percent": 97.0}), ...)."""
    built = {
        name: {
            "status": status,
            "message": f"{name} {status}",
            "metrics": metrics,
            "duration_ms": 1.0,
        }
        for name, (status, metrics) in checks.items()
    }
    summary = {
        s: sum(1 for c in built.values() if c["status"] == s)
        for s in ("ok", "warning", "critical", "unknown")
    }
    return {
        "checks_run": len(built),
        "checks": built,
        "summary": summary,
        "host": {"hostname": "web-01"},
    }


def healthy_context() -> dict[str, Any]:
    return context(
        cpu=("ok", {"percent": 7.5, "iowait_percent": 0.1, "cpu_count": 2}),
        memory=("ok", {"percent": 41.0, "available_bytes": 4 * 2**30}),
        swap=("ok", {"percent": 0.0}),
        load=("ok", {"load1": 0.2, "load5": 0.3, "load15": 0.3, "per_core": 0.15, "cpu_count": 2}),
        disk=(
            "ok",
            {"paths": {"/": {"percent": 41.0, "free_bytes": 30 * 2**30, "inodes_percent": 5.0}}},
        ),
        uptime=("ok", {"uptime_min": 8000.0}),
    )
