"""Memory used percent (what is not available to new programs)."""

from dataclasses import dataclass

from .base import Check, CheckResult


@dataclass(kw_only=True)
class MemoryCheck(Check):
    name = "memory"
    unit = "%"

    warning: float | None = 85.0
    critical: float | None = 95.0

    def collect(self) -> CheckResult:
        import psutil

        memory = psutil.virtual_memory()
        percent = round(float(memory.percent), 1)
        metrics = {
            "percent": percent,
            "total_bytes": int(memory.total),
            "available_bytes": int(memory.available),
            "used_bytes": int(memory.total - memory.available),
        }
        status = self.grade(percent)
        gib = memory.available / 2**30
        message = f"memory {percent:.1f}% used, {gib:.1f} GiB available{self.limit_note(status)}"
        return CheckResult(status, message, metrics)
