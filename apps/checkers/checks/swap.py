"""Swap used percent; a host without swap is ok."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .base import Check, CheckResult, number, optional_number


@dataclass(kw_only=True)
class SwapCheck(Check):
    """Readings (= metrics): `percent` (used %, graded; node_exporter: 100 * (1 - SwapFree /
    SwapTotal)), `total_bytes` (0: no swap, ok), `used_bytes`, `swapped_in_bytes`,
    `swapped_out_bytes`.

    Without `percent` it is computed from `used_bytes` and `total_bytes`.
    """

    name = "swap"
    unit = "%"

    warning: float | None = 50.0
    critical: float | None = 80.0

    def measure(self) -> dict[str, Any]:
        import psutil

        swap = psutil.swap_memory()
        return {
            "percent": round(float(swap.percent), 1),
            "total_bytes": int(swap.total),
            "used_bytes": int(swap.used),
            "swapped_in_bytes": int(swap.sin),
            "swapped_out_bytes": int(swap.sout),
        }

    def assess(self, readings: Mapping[str, Any]) -> CheckResult:
        total = optional_number(readings, "total_bytes")
        if total == 0:
            return CheckResult("ok", "no swap configured", dict(readings))
        used = optional_number(readings, "used_bytes")
        if "percent" not in readings and total and used is not None:
            percent = round(100 * used / total, 1)
        else:
            percent = round(number(readings, "percent"), 1)
        status = self.grade(percent)
        message = f"swap {percent:.1f}% used{self.limit_note(status)}"
        return CheckResult(status, message, {**readings, "percent": percent})
