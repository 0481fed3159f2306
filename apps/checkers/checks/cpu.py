"""CPU busy percent over a short sample of /proc/stat-style CPU times."""

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .base import Check, CheckResult, number


@dataclass(kw_only=True)
class CpuCheck(Check):
    """Busy percent of all CPUs (idle and iowait count as not busy), sampled over interval_s.

    Readings (= metrics): `percent` (busy %, graded; node_exporter: 100 - idle - iowait rate),
    `iowait_percent`, `steal_percent`, `cpu_count`, `interval_s` (the sample length).
    """

    name = "cpu"
    unit = "%"

    warning: float | None = 80.0
    critical: float | None = 95.0
    interval_s: float = 0.2

    def problems(self) -> list[str]:
        problems = super().problems()
        if not 0.01 <= self.interval_s <= 5:
            problems.append(
                f"check 'cpu' option 'interval_s' must be between 0.01 and 5, "
                f"got {self.interval_s:g}"
            )
        return problems

    def measure(self) -> dict[str, Any]:
        import psutil

        before = psutil.cpu_times()
        time.sleep(self.interval_s)
        after = psutil.cpu_times()
        deltas = {
            name: max(0.0, getattr(after, name) - getattr(before, name)) for name in after._fields
        }
        # guest time is already counted in user time on Linux.
        total = sum(v for k, v in deltas.items() if k not in ("guest", "guest_nice"))
        if total <= 0:
            return {"error": f"no CPU time elapsed in a {self.interval_s:g}s sample"}
        idle = deltas.get("idle", 0.0) + deltas.get("iowait", 0.0)
        return {
            "percent": round(100 * (total - idle) / total, 1),
            "iowait_percent": round(100 * deltas.get("iowait", 0.0) / total, 1),
            "steal_percent": round(100 * deltas.get("steal", 0.0) / total, 1),
            "cpu_count": psutil.cpu_count() or 0,
            "interval_s": self.interval_s,
        }

    def assess(self, readings: Mapping[str, Any]) -> CheckResult:
        percent = round(number(readings, "percent"), 1)
        status = self.grade(percent)
        metrics = {**readings, "percent": percent}
        return CheckResult(status, f"CPU {percent:.1f}% busy{self.limit_note(status)}", metrics)
