"""What an agent may send: a snapshot of its checks, read strictly (one-line errors).

{"observed_at": "2026-12-04T19:00:00Z",          # required, ISO 8601 with a time zone
 "interval_s": 60, "agent_version": "0.1.0",     # optional
 "host": {"os": "Linux 6.1", "kernel": "...", "boot_time": "...", "uptime_s": 1234,
          "cpu_count": 4},                       # optional facts about the machine
 "checks": {"disk": {"status": "warning", "message": "disk / 91.0% used ...",
                     "readings": {...}, "metrics": {...}, "duration_ms": 1.2}},
 "labels": {"role": "web"}}                      # optional, strings only
"""

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.common.redact import redact, redact_text
from apps.common.text import shown

TOP_KEYS = {"observed_at", "interval_s", "agent_version", "host", "checks", "labels"}
CHECK_KEYS = {"status", "message", "readings", "metrics", "duration_ms"}
NUMERIC_HOST_KEYS = {"uptime_s", "cpu_count"}
HOST_KEYS = {"os", "kernel", "platform", "boot_time", "uptime_s", "cpu_count", "hostname"}
STATUSES = ("ok", "warning", "critical", "unknown")
HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_-]{1,63})*$"
)
FUTURE_SKEW = timedelta(seconds=120)
MAX_MESSAGE = 2000
MAX_LABELS = 64


class SnapshotError(ValueError):
    """A snapshot the hub refuses; the message is one line."""


@dataclass
class Snapshot:
    observed_at: datetime
    checks: dict[str, dict[str, Any]]
    info: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    interval_s: int | None = None
    agent_version: str = ""

    def statuses(self) -> dict[str, str]:
        return {name: check["status"] for name, check in self.checks.items()}


def valid_host_name(name: str) -> bool:
    """A DNS-style host name or an IP address (what `resolve_host` produces)."""
    if not isinstance(name, str) or not name:
        return False
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return bool(HOSTNAME_RE.match(name))


def parse_snapshot(body: Any, known_checks: set[str]) -> Snapshot:
    if not isinstance(body, dict):
        raise SnapshotError(f"a snapshot is a JSON object, not {kind(body)}")
    unknown = sorted(set(body) - TOP_KEYS)
    if unknown:
        raise SnapshotError(
            f"unknown field {shown(unknown[0], 60)!s}; allowed: {', '.join(sorted(TOP_KEYS))}"
        )
    observed_at = parse_time(body.get("observed_at"))
    checks = parse_checks(body.get("checks"), known_checks)
    interval = body.get("interval_s")
    if interval is not None and (
        isinstance(interval, bool) or not isinstance(interval, int) or not 1 <= interval <= 86400
    ):
        raise SnapshotError("interval_s must be a whole number of seconds from 1 to 86400")
    version = body.get("agent_version", "")
    if not isinstance(version, str) or len(version) > 50:
        raise SnapshotError("agent_version must be a string of at most 50 characters")
    return Snapshot(
        observed_at=observed_at,
        checks=checks,
        info=parse_info(body.get("host")),
        labels=parse_labels(body.get("labels")),
        interval_s=interval,
        agent_version=version,
    )


def parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise SnapshotError("observed_at is required: an ISO 8601 time with a time zone")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SnapshotError(f"observed_at is not an ISO 8601 time: {shown(value, 60)}") from None
    if moment.tzinfo is None:
        raise SnapshotError("observed_at needs a time zone (e.g. Z or +00:00)")
    now = timezone.now()
    if moment > now + FUTURE_SKEW:
        raise SnapshotError(f"observed_at {value} is in the future (is the agent's clock right?)")
    oldest = timedelta(days=settings.HOST_SNAPSHOTS_MAX_AGE_DAYS)
    if moment < now - oldest:
        raise SnapshotError(
            f"observed_at {value} is more than {oldest.days} days old (is the agent's clock right?)"
        )
    return moment


def parse_checks(value: Any, known_checks: set[str]) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        raise SnapshotError(f"checks must be an object of check results, not {kind(value)}")
    checks = {}
    for name, result in value.items():
        if name not in known_checks:
            known = ", ".join(sorted(known_checks))
            raise SnapshotError(f"unknown check {shown(name, 60)} (known: {known})")
        if not isinstance(result, dict):
            raise SnapshotError(f"checks.{name} must be an object, not {kind(result)}")
        extra = sorted(set(result) - CHECK_KEYS)
        if extra:
            raise SnapshotError(f"checks.{name}: unknown field {shown(extra[0], 60)}")
        status = result.get("status")
        if status not in STATUSES:
            raise SnapshotError(
                f"checks.{name}.status must be one of {', '.join(STATUSES)}, "
                f"got {shown(status, 40)}"
            )
        message = result.get("message", "")
        if not isinstance(message, str):
            raise SnapshotError(f"checks.{name}.message must be a string")
        for key in ("readings", "metrics"):
            if key in result and not isinstance(result[key], dict):
                raise SnapshotError(f"checks.{name}.{key} must be an object")
        duration = result.get("duration_ms", 0)
        if isinstance(duration, bool) or not isinstance(duration, int | float):
            raise SnapshotError(f"checks.{name}.duration_ms must be a number")
        checks[name] = {  # redacted before it is stored: agents send what their hosts show
            "status": status,
            "message": redact_text(" ".join(message.split())[:MAX_MESSAGE]),
            "readings": redact(result.get("readings") or result.get("metrics") or {}),
            "duration_ms": float(duration),
        }
    return checks


def parse_info(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SnapshotError(f"host must be an object, not {kind(value)}")
    extra = sorted(set(value) - HOST_KEYS)
    if extra:
        raise SnapshotError(
            f"host: unknown field {shown(extra[0], 60)}; allowed: {', '.join(sorted(HOST_KEYS))}"
        )
    for key, item in value.items():
        if item is not None and isinstance(item, dict | list | bool):
            raise SnapshotError(f"host.{key} must be a string or a number")
        if (
            key in NUMERIC_HOST_KEYS
            and item is not None
            and not (isinstance(item, int | float) and item >= 0)
        ):
            raise SnapshotError(f"host.{key} must be a number of 0 or more, got {shown(item, 40)}")
        if isinstance(item, str) and len(item) > 500:
            raise SnapshotError(f"host.{key} is longer than 500 characters")
    return dict(value)


def parse_labels(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise SnapshotError("labels must be an object of strings")
    if len(value) > MAX_LABELS:
        raise SnapshotError(f"at most {MAX_LABELS} labels")
    return dict(value)


def kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string"}.get(
        type(value), "a list" if isinstance(value, list) else type(value).__name__
    )
