"""pagerduty: Events API v2; trigger with dedup_key = incident identity, resolve with the same."""

import json
from typing import Any

from django.conf import settings

from apps.notify.drivers.base import (
    USER_AGENT,
    Message,
    send_http,
    shown_url,
    string_problem,
    url_problem,
)

NAME = "pagerduty"
KEYS = ("routing_key", "events_url")
REQUIRED = ("routing_key",)
DEFAULTS = {"routing_key": "PAGERDUTY_ROUTING_KEY", "events_url": "PAGERDUTY_EVENTS_URL"}
PD_SEVERITIES = {"critical": "critical", "error": "error", "warning": "warning", "info": "info"}


def validate(config: dict[str, Any]) -> list[str]:
    problems = []
    if "routing_key" in config and (
        problem := string_problem("routing_key", config["routing_key"])
    ):
        problems.append(problem)
    if "events_url" in config and (problem := url_problem("events_url", config["events_url"])):
        problems.append(problem)
    return problems


def _events_url(config: dict[str, Any]) -> str:
    return config.get("events_url") or settings.PAGERDUTY_EVENTS_URL


def describe(config: dict[str, Any]) -> str:
    key = config["routing_key"]
    shown_key = key if key.startswith("env:") else "routing key set"
    return f"{shown_url(_events_url(config))} ({shown_key})"


def body(config: dict[str, Any], message: Message) -> dict[str, Any]:
    if message.kind == "resolve":
        return {
            "routing_key": config["routing_key"],
            "event_action": "resolve",
            "dedup_key": message.dedup_key,
        }
    details = {
        "status": message.status,
        "description": message.description,
        "summary": message.summary,
        "probable_cause": message.probable_cause,
        "recommendations": message.recommendations[:3],
        "text": message.text,
        "run_id": message.run_id,
        "trace_id": message.trace_id,
        "environment": message.environment,
    }
    event: dict[str, Any] = {
        "routing_key": config["routing_key"],
        "event_action": "trigger",
        "dedup_key": message.dedup_key,
        "payload": {
            "summary": message.title[:1024],
            "source": message.host or "incident-pipeline",
            "severity": PD_SEVERITIES.get(message.severity, "warning"),
            "custom_details": {key: value for key, value in details.items() if value},
        },
        "client": "incident-pipeline",
    }
    if message.source:
        event["payload"]["component"] = message.source
    if message.link:
        event["links"] = [{"href": message.link, "text": "Incident"}]
    return event


def send(config: dict[str, Any], message: Message, *, timeout: float) -> int | None:
    raw = json.dumps(body(config, message), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    return send_http(
        _events_url(config),
        shown_as=describe(config),
        timeout=timeout,
        content=raw,
        headers=headers,
    )
