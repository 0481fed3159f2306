"""The traffic of bench_storm: a rack-wide outage as four vendors would report it.

Each host sends ten alerts that make four incidents (INCIDENT_GROUP_BY=name,host):
  HostDown             1 alert   Alertmanager v4, critical
  ServiceUnreachable   5 alerts  Grafana unified alerting, one body, warning (one per service)
  AgentUnreachable     2 alerts  Zabbix media type, one body each, warning (two triggers)
  HighLatency          2 alerts  generic JSON, one body, warning (two endpoints)
The bodies have the shapes of tests/fixtures/payloads. The warnings of every host are spread
over the window; each host's HostDown comes after its symptoms, and the last request of the
storm is the HostDown of the last host: a critical page that must not wait behind the
warnings queued before it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

ALERTS_PER_HOST = 10
INCIDENTS_PER_HOST = 4
SERVICES = ("api", "web", "auth", "billing", "search")
ENDPOINTS = ("/login", "/checkout")


@dataclass
class Request:
    at_s: float  # when to send it, from the start of the storm
    path: str
    body: bytes
    group_keys: list[str]  # the incidents its alerts belong to (name=...|host=...)
    alerts: int
    critical: bool = False
    last: bool = False


def host_name(number: int) -> str:
    return f"rack{number // 40 + 1:02d}-node{number % 40 + 1:02d}"


def key(name: str, host: str) -> str:
    return f"name={name}|host={host}"


def alertmanager_host_down(host: str, number: int) -> Request:
    body = {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="HostDown", instance="{host}:9100"}}',
        "status": "firing",
        "receiver": "incident-pipeline",
        "groupLabels": {"alertname": "HostDown"},
        "commonLabels": {"alertname": "HostDown", "severity": "critical"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.com:9093",
        "truncatedAlerts": 0,
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "HostDown", "instance": f"{host}:9100",
                           "job": "node", "severity": "critical"},
                "annotations": {"summary": f"{host} does not answer its scrapes"},
                "startsAt": "2026-12-04T03:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example.com/graph?g0.expr=up%3D%3D0",
                "fingerprint": f"d0{number:014x}",
            }
        ],
    }  # fmt: skip
    return Request(0, "/api/alerts/alertmanager/", json.dumps(body).encode(),
                   [key("HostDown", host)], 1, critical=True)  # fmt: skip


def grafana_services(host: str, number: int) -> Request:
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": "ServiceUnreachable", "instance": f"{host}:443",
                       "service": service, "severity": "warning"},
            "annotations": {"summary": f"{service} on {host} does not answer"},
            "startsAt": "2026-12-04T03:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://grafana.example.com/alerting/grafana/storm/view",
            "fingerprint": f"{number:08x}{index:08x}",
            "silenceURL": "https://grafana.example.com/alerting/silence/new",
            "dashboardURL": "",
            "panelURL": "",
            "valueString": f"[ var='B0' labels={{instance={host}}} value=0 ]",
        }
        for index, service in enumerate(SERVICES)
    ]  # fmt: skip
    body = {
        "receiver": "incident-pipeline",
        "status": "firing",
        "alerts": alerts,
        "groupLabels": {"instance": f"{host}:443"},
        "commonLabels": {"alertname": "ServiceUnreachable", "severity": "warning"},
        "commonAnnotations": {},
        "externalURL": "https://grafana.example.com/",
        "version": "1",
        "groupKey": f'{{}}/{{instance="{host}:443"}}:{{}}',
        "truncatedAlerts": 0,
        "orgId": 1,
        "title": f"[FIRING:{len(alerts)}] ServiceUnreachable ({host})",
        "state": "alerting",
        "message": f"**Firing** ServiceUnreachable on {host}",
    }
    return Request(0, "/api/alerts/grafana/", json.dumps(body).encode(),
                   [key("ServiceUnreachable", host)], len(alerts))  # fmt: skip


def zabbix_agent(host: str, number: int, trigger: int) -> Request:
    body = {
        "hostname": host,
        "severity": "Average",
        "status": "PROBLEM",
        "item": "Agent ping is Down (0)",
        "trigger": "AgentUnreachable",
        "link": "https://zabbix.example.com/tr_events.php?"
        f"triggerid={number * 10 + trigger}&eventid={number * 100 + trigger}",
    }
    return Request(0, "/api/alerts/zabbix/", json.dumps(body).encode(),
                   [key("AgentUnreachable", host)], 1)  # fmt: skip


def generic_latency(host: str) -> Request:
    alerts = [
        {
            "name": "HighLatency",
            "status": "firing",
            "severity": "warning",
            "host": host,
            "description": f"p99 of {endpoint} on {host} above 2 s",
            "labels": {"endpoint": endpoint},
            "fingerprint": f"lat-{host}-{endpoint}",
        }
        for endpoint in ENDPOINTS
    ]
    return Request(0, "/api/alerts/generic/", json.dumps({"alerts": alerts}).encode(),
                   [key("HighLatency", host)], len(alerts))  # fmt: skip


def storm(hosts: int, seconds: float) -> list[Request]:
    """The requests of the storm, in sending order, with their send times."""
    symptoms: list[Request] = []
    downs: list[Request] = []
    for number in range(hosts):
        host = host_name(number)
        symptoms += [grafana_services(host, number), zabbix_agent(host, number, 1),
                     zabbix_agent(host, number, 2), generic_latency(host)]  # fmt: skip
        downs.append(alertmanager_host_down(host, number))
    # The symptoms fill the window evenly; each HostDown follows its host's symptoms by a
    # quarter of the window (the hosts go down one after the other), and the last host's
    # HostDown is the storm's last request.
    span = seconds * 0.75
    for index, request in enumerate(symptoms):
        request.at_s = span * index / max(len(symptoms), 1)
    for number, request in enumerate(downs):
        request.at_s = seconds * 0.25 + span * number / max(hosts, 1)
    downs[-1].at_s, downs[-1].last = seconds, True
    return sorted([*symptoms, *downs], key=lambda request: request.at_s)
