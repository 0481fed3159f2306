"""Load average divided by the number of logical CPUs."""

from dataclasses import dataclass

from .base import Check, CheckResult

PERIODS = (1, 5, 15)


@dataclass(kw_only=True)
class LoadCheck(Check):
    """Graded on the `period`-minute average (1, 5 or 15) per logical CPU."""

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

    def collect(self) -> CheckResult:
        import psutil

        cores = psutil.cpu_count() or 1
        averages = dict(zip(PERIODS, psutil.getloadavg(), strict=True))
        per_core = {p: round(averages[p] / cores, 2) for p in PERIODS}
        value = per_core[self.period]
        metrics = {
            "load1": round(averages[1], 2),
            "load5": round(averages[5], 2),
            "load15": round(averages[15], 2),
            "per_core": value,
            "period_min": self.period,
            "cpu_count": cores,
        }
        status = self.grade(value)
        message = (
            f"load {averages[1]:.2f} {averages[5]:.2f} {averages[15]:.2f} on {cores} CPUs, "
            f"{value:.2f} per core over {self.period} min{self.limit_note(status)}"
        )
        return CheckResult(status, message, metrics)
