"""Sample webhook bodies, one per vendor, for ``run_pipeline --sample --source X``.

Each is shaped like what that vendor really sends: a firing alert about high CPU on web-01.
Times are relative to ``now`` so a sample looks fresh; ids are fixed, so every sample of a
source is the same alert (its fingerprint does not change between calls).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

HOST = "web-01"
SUMMARY = "High CPU usage on web-01"
DETAIL = "CPU usage on web-01 has been above 90% for 5 minutes (current value: 97.3%)."


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def alertmanager(now: datetime) -> dict[str, Any]:
    labels = {
        "alertname": "HighCpuUsage",
        "instance": HOST,
        "job": "node",
        "severity": "critical",
    }
    annotations = {"summary": SUMMARY, "description": DETAIL}
    return {
        "receiver": "incident-pipeline",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": annotations,
                "startsAt": rfc3339(now - timedelta(minutes=5)),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=100+-+avg+by"
                "%28instance%29+%28rate%28node_cpu_seconds_total%7Bmode%3D%22idle%22%7D%5B5m"
                "%5D%29%29+%2A+100+%3E+90&g0.tab=1",
                "fingerprint": "8c3b2f6d1e0a4b97",
            }
        ],
        "groupLabels": {"alertname": "HighCpuUsage"},
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "http://alertmanager.example.com:9093",
        "version": "4",
        "groupKey": '{}:{alertname="HighCpuUsage"}',
        "truncatedAlerts": 0,
    }


def grafana(now: datetime) -> dict[str, Any]:
    labels = {
        "alertname": "High CPU usage",
        "grafana_folder": "Servers",
        "instance": HOST,
        "severity": "critical",
    }
    value = (
        "[ var='A' labels={instance=web-01} value=97.3 ], "
        "[ var='B' labels={instance=web-01} value=1 ]"
    )
    return {
        "receiver": "incident-pipeline",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": SUMMARY, "description": DETAIL},
                "startsAt": rfc3339(now - timedelta(minutes=5)),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "https://grafana.example.com/alerting/grafana/cpu-web01/view",
                "fingerprint": "5e1f0c9a7b2d3e64",
                "silenceURL": "https://grafana.example.com/alerting/silence/new?alertmanager="
                "grafana&matcher=alertname%3DHigh+CPU+usage&matcher=instance%3Dweb-01",
                "dashboardURL": "https://grafana.example.com/d/node-exporter?orgId=1",
                "panelURL": "https://grafana.example.com/d/node-exporter?orgId=1&viewPanel=3",
                "values": {"A": 97.3, "B": 1},
                "valueString": value,
            }
        ],
        "groupLabels": {"alertname": "High CPU usage"},
        "commonLabels": labels,
        "commonAnnotations": {"summary": SUMMARY, "description": DETAIL},
        "externalURL": "https://grafana.example.com/",
        "version": "1",
        "groupKey": '{}/{}:{alertname="High CPU usage"}',
        "truncatedAlerts": 0,
        "orgId": 1,
        "title": "[FIRING:1] High CPU usage Servers (web-01 critical)",
        "state": "alerting",
        "message": f"**Firing**\n\nValue: {value}\nLabels:\n - alertname = High CPU usage\n"
        f" - instance = {HOST}\n - severity = critical\n",
    }


def pagerduty(now: datetime) -> dict[str, Any]:
    user = {
        "html_url": "https://example.pagerduty.com/users/PJ0LVEB",
        "id": "PJ0LVEB",
        "self": "https://api.pagerduty.com/users/PJ0LVEB",
        "summary": "Example User",
        "type": "user_reference",
    }
    return {
        "event": {
            "id": "01DEN7T0S2KBYLZ9X3R5WQHJAC",
            "event_type": "incident.triggered",
            "resource_type": "incident",
            "occurred_at": rfc3339(now - timedelta(minutes=1)),
            "agent": None,
            "client": None,
            "data": {
                "id": "Q3LW2BNZKX8E1P",
                "type": "incident",
                "self": "https://api.pagerduty.com/incidents/Q3LW2BNZKX8E1P",
                "html_url": "https://example.pagerduty.com/incidents/Q3LW2BNZKX8E1P",
                "number": 1042,
                "status": "triggered",
                "incident_key": "web-01/cpu",
                "created_at": rfc3339(now - timedelta(minutes=1)),
                "title": SUMMARY,
                "service": {
                    "html_url": "https://example.pagerduty.com/services/PA2P440",
                    "id": "PA2P440",
                    "self": "https://api.pagerduty.com/services/PA2P440",
                    "summary": "web",
                    "type": "service_reference",
                },
                "assignees": [user],
                "escalation_policy": {
                    "html_url": "https://example.pagerduty.com/escalation_policies/PY82TC6",
                    "id": "PY82TC6",
                    "self": "https://api.pagerduty.com/escalation_policies/PY82TC6",
                    "summary": "Default",
                    "type": "escalation_policy_reference",
                },
                "teams": [],
                "priority": None,
                "urgency": "high",
                "conference_bridge": None,
                "resolve_reason": None,
            },
        }
    }


def datadog(now: datetime) -> dict[str, Any]:
    happened = str(epoch_ms(now - timedelta(minutes=1)))
    return {
        "body": f"%%%\n{DETAIL}\n\n@webhook-incident-pipeline\n\nThe monitor was last triggered"
        " at " + (now - timedelta(minutes=1)).strftime("%a %b %d %Y %H:%M:%S UTC") + ".\n%%%",
        "last_updated": happened,
        "event_type": "query_alert_monitor",
        "title": "[P2] [Triggered on {host:web-01}] High CPU usage",
        "severity": "P2",
        "alert_type": "error",
        "alert_query": "avg(last_5m):100 - avg:system.cpu.idle{*} by {host} > 90",
        "alert_transition": "Triggered",
        "date": happened,
        "scopes": f"host:{HOST}",
        "org": {"id": "123456", "name": "Example Org"},
        "url": "https://app.datadoghq.com/event/event?id=7880012345678901234",
        "tags": f"env:production,host:{HOST},monitor,service:web",
        "id": "7880012345678901234",
        "monitor_id": "160080001",
    }


def newrelic(now: datetime) -> dict[str, Any]:
    created = epoch_ms(now - timedelta(minutes=1))
    return {
        "id": "4b7e1f3a-9c2d-4e8b-a6f0-2d5c8e1b7a93",
        "issueUrl": "https://radar-api.service.newrelic.com/accounts/1234567/issues/"
        "4b7e1f3a-9c2d-4e8b-a6f0-2d5c8e1b7a93?notifier=WEBHOOK",
        "title": f"{HOST} query result is > 90.0 for 5 minutes on 'High CPU'",
        "priority": "CRITICAL",
        "impactedEntities": [HOST],
        "totalIncidents": 1,
        "state": "CREATED",
        "trigger": "INCIDENT_ADDED",
        "isCorrelated": False,
        "createdAt": created,
        "updatedAt": created,
        "sources": ["newrelic"],
        "alertPolicyNames": ["Golden Signals"],
        "alertConditionNames": ["High CPU"],
        "workflowName": "Ops workflow",
    }


def opsgenie(now: datetime) -> dict[str, Any]:
    created = now - timedelta(minutes=1)
    return {
        "action": "Create",
        "alert": {
            "alertId": "9f1c2e3d-4b5a-4c6d-8e7f-0a1b2c3d4e5f",
            "message": SUMMARY,
            "tags": ["cpu", f"host:{HOST}"],
            "tinyId": "42",
            "entity": HOST,
            "alias": "web-01-high-cpu",
            "createdAt": epoch_ms(created),
            "updatedAt": epoch_ms(created) * 1_000_000,
            "username": "System",
            "userId": "",
            "description": DETAIL,
            "team": "ops",
            "responders": [{"id": "8d43133c-a002-4e95-bf2b-2d6f95e47c96", "type": "team"}],
            "teams": ["8d43133c-a002-4e95-bf2b-2d6f95e47c96"],
            "actions": [],
            "details": {"host": HOST, "metric": "cpu"},
            "priority": "P1",
            "source": "prometheus",
        },
        "source": {"name": "", "type": "API"},
        "integrationId": "daca46c6-e26b-4dda-8f8a-21f6db7eeaef",
        "integrationName": "Webhook",
    }


def zabbix(now: datetime) -> dict[str, Any]:
    return {
        "hostname": HOST,
        "severity": "High",
        "status": "PROBLEM",
        "item": "CPU utilization is 97.3 %",
        "trigger": "High CPU utilization (over 90% for 5m)",
        "link": "https://zabbix.example.com/tr_events.php?triggerid=23151&eventid=884512",
    }


def generic(now: datetime) -> dict[str, Any]:
    return {
        "name": "High CPU usage",
        "status": "firing",
        "severity": "critical",
        "host": HOST,
        "description": DETAIL,
        "labels": {"service": "web", "check": "cpu"},
        "started_at": rfc3339(now - timedelta(minutes=5)),
    }


SAMPLES: dict[str, Callable[[datetime], dict[str, Any]]] = {
    "alertmanager": alertmanager,
    "grafana": grafana,
    "pagerduty": pagerduty,
    "datadog": datadog,
    "newrelic": newrelic,
    "opsgenie": opsgenie,
    "zabbix": zabbix,
    "generic": generic,
    "cli": generic,
}
SAMPLE_SOURCES: tuple[str, ...] = tuple(SAMPLES)


def sample_payload(source: str, now: datetime | None = None) -> dict[str, Any]:
    """A fresh real-shaped webhook body of ``source`` (a vendor name, or "cli" for generic)."""
    build = SAMPLES.get(source)
    if build is None:
        raise ValueError(
            f"no sample for source {source!r} (choose from: {', '.join(SAMPLE_SOURCES)})"
        )
    return build(now or datetime.now(UTC))
