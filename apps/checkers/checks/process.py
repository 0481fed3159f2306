"""Named processes are running: exact process name, or a full regex match with `re:`."""

import re
from dataclasses import dataclass, field

from django.conf import settings

from .base import Check, CheckResult

REGEX_PREFIX = "re:"


@dataclass(kw_only=True)
class ProcessCheck(Check):
    """Value graded: how many of `names` have no running process (higher is worse).

    A name matches a process whose name equals it exactly; `re:<pattern>` matches when the
    pattern matches the whole process name (re.fullmatch). Never a loose substring.
    """

    name = "process"
    unit = "missing"

    warning: float | None = None
    critical: float | None = 1.0
    names: list[str] = field(default_factory=lambda: list(settings.CHECK_PROCESS_NAMES))

    def problems(self) -> list[str]:
        problems = super().problems()
        for wanted in self.names:
            if wanted.startswith(REGEX_PREFIX):
                try:
                    re.compile(wanted[len(REGEX_PREFIX) :])
                except re.error as exc:
                    problems.append(f"check 'process' pattern {wanted!r} is not a regex: {exc}")
        return problems

    def collect(self) -> CheckResult:
        import psutil

        if not self.names:
            return CheckResult("ok", "no processes configured", {"processes": {}, "missing": 0})
        running = [proc.info["name"] or "" for proc in psutil.process_iter(["name"])]
        counts = {wanted: sum(1 for n in running if _matches(wanted, n)) for wanted in self.names}
        missing = [wanted for wanted, count in counts.items() if count == 0]
        status = self.grade(len(missing))
        if missing:
            message = f"not running: {', '.join(missing)}{self.limit_note(status)}"
        else:
            message = "running: " + ", ".join(f"{w} ({c})" for w, c in counts.items())
        metrics = {"processes": counts, "missing": len(missing), "checked": len(self.names)}
        return CheckResult(status, message, metrics)


def _matches(wanted: str, process_name: str) -> bool:
    if wanted.startswith(REGEX_PREFIX):
        return re.fullmatch(wanted[len(REGEX_PREFIX) :], process_name) is not None
    return wanted == process_name
