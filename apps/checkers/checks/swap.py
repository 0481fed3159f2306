"""Swap used percent; a host without swap is ok."""

from dataclasses import dataclass

from .base import Check, CheckResult


@dataclass(kw_only=True)
class SwapCheck(Check):
    name = "swap"
    unit = "%"

    warning: float | None = 50.0
    critical: float | None = 80.0

    def collect(self) -> CheckResult:
        import psutil

        swap = psutil.swap_memory()
        metrics = {
            "percent": round(float(swap.percent), 1),
            "total_bytes": int(swap.total),
            "used_bytes": int(swap.used),
            "swapped_in_bytes": int(swap.sin),
            "swapped_out_bytes": int(swap.sout),
        }
        if swap.total == 0:
            return CheckResult("ok", "no swap configured", metrics)
        status = self.grade(metrics["percent"])
        message = f"swap {metrics['percent']:.1f}% used{self.limit_note(status)}"
        return CheckResult(status, message, metrics)
