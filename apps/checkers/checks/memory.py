"""Memory used percent (what is not available to new programs)."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .base import Check, CheckResult, number, optional_number


@dataclass(kw_only=True)
class MemoryCheck(Check):
    """Readings (= metrics): `percent` (used %, graded; node_exporter: 100 * (1 -
    MemAvailable / MemTotal)), `total_bytes`, `available_bytes`, `used_bytes`.

    Without `percent` it is computed from `total_bytes` and `available_bytes`; without
    `available_bytes` the message leaves out what is available.
    """

    name = "memory"
    unit = "%"

    warning: float | None = 85.0
    critical: float | None = 95.0

    def measure(self) -> dict[str, Any]:
        import psutil

        memory = psutil.virtual_memory()
        return {
            "percent": round(float(memory.percent), 1),
            "total_bytes": int(memory.total),
            "available_bytes": int(memory.available),
            "used_bytes": int(memory.total - memory.available),
        }

    def assess(self, readings: Mapping[str, Any]) -> CheckResult:
        available = optional_number(readings, "available_bytes")
        percent = round(used_percent(readings, available), 1)
        status = self.grade(percent)
        message = f"memory {percent:.1f}% used"
        if available is not None:
            message += f", {available / 2**30:.1f} GiB available"
        metrics = {**readings, "percent": percent}
        return CheckResult(status, message + self.limit_note(status), metrics)


def used_percent(readings: Mapping[str, Any], available: float | None) -> float:
    total = optional_number(readings, "total_bytes")
    if "percent" not in readings and total and available is not None:
        return 100 * (total - available) / total
    return number(readings, "percent")
