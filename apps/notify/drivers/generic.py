"""generic: the message as JSON POSTed to any URL, optionally HMAC-signed.

Signature (when `secret` is set): X-Signature-Timestamp is unix seconds and
X-Signature-256 is "sha256=" + hex HMAC-SHA256(secret, f"{timestamp}.{body}"), body being the
exact bytes sent.
"""

import hashlib
import hmac
import json
import time
from typing import Any

from apps.notify.drivers.base import (
    USER_AGENT,
    Message,
    headers_problems,
    send_http,
    shown_url,
    string_problem,
    url_problem,
)

NAME = "generic"
KEYS = ("url", "headers", "secret")
REQUIRED = ("url",)
DEFAULTS = {"url": "GENERIC_WEBHOOK_URL"}
RESERVED_HEADERS = {"content-type", "x-signature-timestamp", "x-signature-256", "content-length"}


def validate(config: dict[str, Any]) -> list[str]:
    problems = []
    if "url" in config and (problem := url_problem("url", config["url"])):
        problems.append(problem)
    if "headers" in config:
        problems += headers_problems("headers", config["headers"])
        if isinstance(config["headers"], dict):
            problems += [
                f"'headers': {name!r} is set by the driver and cannot be overridden"
                for name in config["headers"]
                if str(name).lower() in RESERVED_HEADERS
            ]
    if "secret" in config and (problem := string_problem("secret", config["secret"])):
        problems.append(problem)
    return problems


def describe(config: dict[str, Any]) -> str:
    signed = " (signed)" if config.get("secret") else ""
    return shown_url(config["url"]) + signed


def body(message: Message) -> dict[str, Any]:
    return {
        "version": 1,
        "kind": message.kind,
        "title": message.title,
        "text": message.text,
        "severity": message.severity,
        "status": message.status,
        "host": message.host,
        "started_at": message.started_at,
        "description": message.description,
        "link": message.link,
        "summary": message.summary,
        "probable_cause": message.probable_cause,
        "recommendations": message.recommendations,
        "dedup_key": message.dedup_key,
        "incident_id": message.incident_id,
        "run_id": message.run_id,
        "trace_id": message.trace_id,
        "source": message.source,
        "environment": message.environment,
    }


def signature(secret: str, timestamp: str, raw: bytes) -> str:
    signed = timestamp.encode() + b"." + raw
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def send(config: dict[str, Any], message: Message, *, timeout: float) -> int | None:
    raw = json.dumps(body(message), separators=(",", ":"), ensure_ascii=False).encode()
    headers = {"User-Agent": USER_AGENT, **config.get("headers", {})}
    headers["Content-Type"] = "application/json"
    if config.get("secret"):
        timestamp = str(int(time.time()))
        headers["X-Signature-Timestamp"] = timestamp
        headers["X-Signature-256"] = signature(config["secret"], timestamp, raw)
    return send_http(
        config["url"], shown_as=describe(config), timeout=timeout, content=raw, headers=headers
    )
