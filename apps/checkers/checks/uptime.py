"""Minutes since boot; a recent reboot is the problem, so lower is worse."""

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apps.common.text import one_line

from .base import Check, CheckResult, ReadingError, optional_number


@dataclass(kw_only=True)
class UptimeCheck(Check):
    """Readings (= metrics): `uptime_min` (graded), `uptime_s` (node_exporter: node_time_seconds
    - node_boot_time_seconds; used when `uptime_min` is missing), `boot_time` (ISO 8601, only
    for the message).
    """

    name = "uptime"
    unit = "min"
    lower_is_worse = True

    warning: float | None = 60.0
    critical: float | None = None

    def measure(self) -> dict[str, Any]:
        import psutil

        boot = psutil.boot_time()
        minutes = round(max(0.0, time.time() - boot) / 60, 1)
        return {
            "uptime_min": minutes,
            "uptime_s": int(minutes * 60),
            "boot_time": datetime.fromtimestamp(boot, UTC).isoformat(timespec="seconds"),
        }

    def assess(self, readings: Mapping[str, Any]) -> CheckResult:
        minutes = optional_number(readings, "uptime_min")
        seconds = optional_number(readings, "uptime_s")
        if minutes is None and seconds is None:
            raise ReadingError("reading 'uptime_s' (or 'uptime_min') is missing")
        if minutes is None:
            minutes = max(0.0, seconds or 0.0) / 60
        minutes = round(minutes, 1)
        metrics = {
            "uptime_min": minutes,
            "uptime_s": int(minutes * 60) if seconds is None else int(seconds),
        }
        metrics.update((k, v) for k, v in readings.items() if k not in metrics)
        status = self.grade(minutes)
        boot = readings.get("boot_time")
        since = f" since {one_line(boot, 64)}" if isinstance(boot, str) and boot else ""
        message = f"up {_human(minutes)}{since}{self.limit_note(status)}"
        return CheckResult(status, message, metrics)


def _human(minutes: float) -> str:
    if minutes < 120:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} days"
