"""Load average divided by the number of logical CPUs."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .base import Check, CheckResult, ReadingError, number, optional_number

PERIODS = (1, 5, 15)


@dataclass(kw_only=True)
class LoadCheck(Check):
    """Graded on the `period`-minute average (1, 5 or 15) per logical CPU.

    Readings: `load1`, `load5`, `load15` (node_exporter node_load1/5/15) and `cpu_count`; the
    metrics add `per_core` (graded) and `period_min`. A reading with only `per_core` is graded
    when its `period_min` is this check's period (or not given).
    """

    name = "load"
    unit = "per core"

    warning: float | None = 1.5
    critical: float | None = 3.0
    period: int = 5

    def problems(self) -> list[str]:
        problems = super().problems()
        if self.period not in PERIODS:
            problems.append(f"check 'load' option 'period' must be 1, 5 or 15, got {self.period}")
        return problems

    def measure(self) -> dict[str, Any]:
        import psutil

        cores = psutil.cpu_count() or 1
        averages = dict(zip(PERIODS, psutil.getloadavg(), strict=True))
        # Unrounded: the per-core value is graded before rounding, as it always was.
        return {
            "load1": averages[1],
            "load5": averages[5],
            "load15": averages[15],
            "cpu_count": cores,
        }

    def assess(self, readings: Mapping[str, Any]) -> CheckResult:
        averages = {p: optional_number(readings, f"load{p}") for p in PERIODS}
        cores = optional_number(readings, "cpu_count")
        graded = averages[self.period]
        if graded is None or not cores or cores < 1:
            return self._assess_per_core(readings)
        cores = int(cores)
        value = round(graded / cores, 2)
        metrics: dict[str, Any] = {
            **{f"load{p}": round(v, 2) for p, v in averages.items() if v is not None},
            "per_core": value,
            "period_min": self.period,
            "cpu_count": cores,
        }
        metrics.update((k, v) for k, v in readings.items() if k not in metrics)
        loads = " ".join("-" if v is None else f"{v:.2f}" for v in averages.values())
        status = self.grade(value)
        message = (
            f"load {loads} on {cores} CPUs, "
            f"{value:.2f} per core over {self.period} min{self.limit_note(status)}"
        )
        return CheckResult(status, message, metrics)

    def _assess_per_core(self, readings: Mapping[str, Any]) -> CheckResult:
        period = optional_number(readings, "period_min")
        if optional_number(readings, "per_core") is None or period not in (None, self.period):
            number(readings, f"load{self.period}")  # raises for the missing reading
            cores = number(readings, "cpu_count")
            raise ReadingError(f"reading 'cpu_count' must be 1 or more, got {cores:g}")
        value = round(number(readings, "per_core"), 2)
        status = self.grade(value)
        metrics = {**readings, "per_core": value, "period_min": self.period}
        message = f"load {value:.2f} per core over {self.period} min{self.limit_note(status)}"
        return CheckResult(status, message, metrics)
