"""Minutes since boot; a recent reboot is the problem, so lower is worse."""

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from .base import Check, CheckResult


@dataclass(kw_only=True)
class UptimeCheck(Check):
    name = "uptime"
    unit = "min"
    lower_is_worse = True

    warning: float | None = 60.0
    critical: float | None = None

    def collect(self) -> CheckResult:
        import psutil

        boot = psutil.boot_time()
        minutes = round(max(0.0, time.time() - boot) / 60, 1)
        metrics = {
            "uptime_min": minutes,
            "uptime_s": int(minutes * 60),
            "boot_time": datetime.fromtimestamp(boot, UTC).isoformat(timespec="seconds"),
        }
        status = self.grade(minutes)
        message = f"up {_human(minutes)} since {metrics['boot_time']}{self.limit_note(status)}"
        return CheckResult(status, message, metrics)


def _human(minutes: float) -> str:
    if minutes < 120:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} days"
