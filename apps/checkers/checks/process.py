"""Named processes are running: exact process name, or a full regex match with `re:`."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from apps.common.text import shown

from .base import Check, CheckResult, ReadingError, mapping, number, optional_number, setting

REGEX_PREFIX = "re:"


@dataclass(kw_only=True)
class ProcessCheck(Check):
    """Value graded: how many of `names` have no running process (higher is worse).

    A name matches a process whose name equals it exactly; `re:<pattern>` matches when the
    pattern matches the whole process name (re.fullmatch). Never a loose substring.

    Readings: `processes`, an object of name -> count of matching processes, and `checked`
    (how many names were asked for). The metrics add `missing`. Only the host itself can count
    its processes; without `processes` the check is unknown.
    """

    name = "process"
    unit = "missing"

    warning: float | None = None
    critical: float | None = 1.0
    names: list[str] = field(default_factory=lambda: list(setting("CHECK_PROCESS_NAMES", [])))

    def problems(self) -> list[str]:
        problems = super().problems()
        for wanted in self.names:
            if wanted.startswith(REGEX_PREFIX):
                try:
                    re.compile(wanted[len(REGEX_PREFIX) :])
                except re.error as exc:
                    problems.append(f"check 'process' pattern {wanted!r} is not a regex: {exc}")
        return problems

    def measure(self) -> dict[str, Any]:
        import psutil

        if not self.names:
            return {"processes": {}}
        running = [proc.info["name"] or "" for proc in psutil.process_iter(["name"])]
        counts = {wanted: sum(1 for n in running if _matches(wanted, n)) for wanted in self.names}
        return {"processes": counts, "checked": len(self.names)}

    def assess(self, readings: Mapping[str, Any]) -> CheckResult:
        found = mapping(readings, "processes", " (only the host itself can count its processes)")
        if not found:
            return CheckResult("ok", "no processes configured", {"processes": {}, "missing": 0})
        counts: dict[str, int] = {}
        for wanted, count in found.items():
            try:
                counts[str(wanted)] = max(0, int(number({"count": count}, "count")))
            except ReadingError:
                raise ReadingError(
                    f"reading 'processes' count of {shown(wanted)!r} is not a number"
                ) from None
        missing = [wanted for wanted, count in counts.items() if count == 0]
        status = self.grade(len(missing))
        if missing:
            names = ", ".join(shown(w, 300) for w in missing)
            message = f"not running: {names}{self.limit_note(status)}"
        else:
            message = "running: " + ", ".join(f"{shown(w, 300)} ({c})" for w, c in counts.items())
        checked = optional_number(readings, "checked")
        metrics = {
            "processes": counts,
            "missing": len(missing),
            "checked": len(counts) if checked is None else int(checked),
        }
        return CheckResult(status, message, metrics)


def _matches(wanted: str, process_name: str) -> bool:
    if wanted.startswith(REGEX_PREFIX):
        return re.fullmatch(wanted[len(REGEX_PREFIX) :], process_name) is not None
    return wanted == process_name
