"""One snapshot of this host: every check measured here and graded, and what the host is.

The body posted to the hub:
    {"observed_at": ISO-8601 UTC, "interval_s": int, "agent_version": str,
     "host": {"os", "kernel", "boot_time", "uptime_s", "cpu_count"},
     "checks": {name: {"status", "message", "readings", "metrics"}}, "labels": {}}
`readings` are what was measured (the hub may grade them itself with the same check classes);
`status`, `message` and `metrics` are the agent's own grading of them.
"""

import platform
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

from apps.checkers.checks import Check
from apps.checkers.checks.base import STATUS_RANK, failure_message, run_parallel, worst_status

CHECK_TIMEOUT_S = 10.0  # a check stuck longer (a dead NFS mount) reports unknown


def agent_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("incident-pipeline")
    except metadata.PackageNotFoundError:
        return "unknown"


def take_snapshot(
    checks: Mapping[str, Check], interval_s: int, version: str, timeout_s: float = CHECK_TIMEOUT_S
) -> dict[str, Any]:
    observed_at = _iso(time.time())
    done = run_parallel(
        {name: partial(check_entry, check) for name, check in checks.items()}, timeout_s
    )
    entries = {}
    for name in checks:
        timed_out = f"{name} check timed out after {timeout_s:g}s"
        entries[name] = done.get(name) or {
            "status": "unknown",
            "message": timed_out,
            "readings": {"error": timed_out},
            "metrics": {},
        }
    return {
        "observed_at": observed_at,
        "interval_s": interval_s,
        "agent_version": version,
        "host": host_facts(),
        "checks": entries,
        "labels": {},
    }


def check_entry(check: Check) -> dict[str, Any]:
    """Measure and grade one check; never raises (a failed measurement is an `error` reading)."""
    try:
        readings = check.measure()
    except Exception as exc:
        readings = {"error": failure_message(check.name, exc)}
    result = check.evaluate(readings)
    return {
        "status": result.status,
        "message": result.message,
        "readings": readings,
        "metrics": result.metrics,
    }


def host_facts() -> dict[str, Any]:
    """What the host is; a failing psutil call leaves its field None."""
    import psutil

    try:
        boot: float | None = psutil.boot_time()
    except Exception:
        boot = None
    return {
        "os": _os_name(),
        "kernel": platform.release(),
        "boot_time": _iso(boot) if boot else None,
        "uptime_s": int(max(0.0, time.time() - boot)) if boot else None,
        "cpu_count": psutil.cpu_count() or 0,
    }


def statuses(snapshot: Mapping[str, Any]) -> dict[str, str]:
    return {name: entry["status"] for name, entry in snapshot["checks"].items()}


def worst(snapshot: Mapping[str, Any]) -> str:
    return worst_status(list(statuses(snapshot).values()))


def summary(snapshot: Mapping[str, Any]) -> str:
    """'1 warning, 7 ok': the statuses present, worst first."""
    counts = list(statuses(snapshot).values())
    order = sorted(set(counts), key=STATUS_RANK.__getitem__, reverse=True)
    return ", ".join(f"{counts.count(status)} {status}" for status in order)


def _os_name() -> str:
    try:
        release = platform.freedesktop_os_release()
    except OSError:
        return f"{platform.system()} {platform.release()}".strip()
    return release.get("PRETTY_NAME") or release.get("NAME") or platform.system()


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
