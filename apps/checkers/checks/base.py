"""What every check shares: the result shape, threshold grading and option validation.

A check is split in two: `measure()` takes the raw readings on this machine (psutil, sockets)
and `evaluate(readings)` grades readings against the thresholds. Readings may come from
elsewhere (an agent's snapshot, Prometheus) and are graded the same way; `run()` is
`evaluate(measure())`.

This package runs without Django (the agent imports it on servers without Django): settings are
read only when Django is already loaded and configured, see `setting`.
"""

import dataclasses
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self, TypeVar

from apps.common.severity import rank, worst
from apps.common.text import one_line, shown

STATUSES = ("ok", "warning", "critical", "unknown")
# Worst wins, in the project's one order (apps.common.severity): critical, unknown, warning, ok.
STATUS_RANK = {status: rank(status) for status in ("ok", "warning", "unknown", "critical")}
EXIT_CODES = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}

T = TypeVar("T")


def worst_status(statuses: list[str]) -> str:
    return worst(statuses, default="ok")


def setting(name: str, default: Any) -> Any:
    """A Django setting when Django is loaded and configured, else `default`.

    Never imports Django: a process that did not load it (the agent) gets the class defaults.
    """
    conf = sys.modules.get("django.conf")
    if conf is None:
        return default
    settings = conf.settings
    if not (settings.configured or os.environ.get("DJANGO_SETTINGS_MODULE")):
        return default
    return getattr(settings, name, default)


def failure_message(name: str, exc: BaseException) -> str:
    """The one-line message of a check that raised."""
    detail = " ".join(str(exc).split()) or "no details"
    return f"{name} check failed: {type(exc).__name__}: {detail}"


class ReadingError(Exception):
    """A reading that evaluate() needs is missing or unusable: the check reports unknown."""


def number(readings: Mapping[str, Any], key: str) -> float:
    """readings[key] as a finite float; ReadingError when it is missing or not a number."""
    value = readings.get(key)
    if value is None:
        raise ReadingError(f"reading '{key}' is missing")
    try:
        return _number(value)
    except ValueError:
        raise ReadingError(f"reading '{key}' must be a number, got {shown(value)}") from None


def optional_number(readings: Mapping[str, Any], key: str) -> float | None:
    """readings[key] as a finite float, or None when it is missing or not a number."""
    try:
        return number(readings, key)
    except ReadingError:
        return None


def mapping(readings: Mapping[str, Any], key: str, note: str = "") -> Mapping[str, Any]:
    """readings[key] as an object (a dict of per-path or per-target readings)."""
    value = readings.get(key)
    if value is None:
        raise ReadingError(f"reading '{key}' is missing{note}")
    if not isinstance(value, Mapping):
        raise ReadingError(f"reading '{key}' must be an object, got {shown(value)}")
    return value


@dataclass
class CheckResult:
    status: str  # ok | warning | critical | unknown
    message: str  # one line
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True)
class Check:
    """A check: option fields with defaults, `warning`/`critical` thresholds (None disables).

    Subclasses set `name`, `unit` and `lower_is_worse`, and implement `measure()` (readings on
    this machine; may raise) and `assess(readings)` (the result; raises ReadingError for a
    missing or bad reading). Higher is worse: a threshold is reached when value >= threshold.
    Lower is worse: a threshold is reached when value < threshold.
    """

    name: ClassVar[str] = ""
    unit: ClassVar[str] = ""
    lower_is_worse: ClassVar[bool] = False
    # Set by run_checks(operator=True), never by options (not a field): the options came from
    # the operator's command line rather than from a definition.
    operator_options = False

    warning: float | None = None
    critical: float | None = None

    def measure(self) -> dict[str, Any]:
        """The raw readings on this machine, keyed like the result's metrics."""
        raise NotImplementedError

    def assess(self, readings: Mapping[str, Any]) -> CheckResult:
        raise NotImplementedError

    def evaluate(self, readings: Mapping[str, Any]) -> CheckResult:
        """Grade readings taken here or elsewhere; never raises.

        A reading `error` (the measuring side could not measure) is reported as unknown with
        that message; a missing or bad reading is unknown with a one-line reason.
        """
        if not isinstance(readings, Mapping):
            return CheckResult("unknown", f"{self.name} readings must be an object")
        if readings.get("error") is not None:
            return CheckResult("unknown", one_line(readings["error"]))
        try:
            return self.assess(readings)
        except ReadingError as exc:
            return CheckResult("unknown", f"{self.name} {exc}", dict(readings))
        except Exception as exc:  # readings of an unexpected shape
            return CheckResult("unknown", failure_message(self.name, exc), dict(readings))

    def run(self) -> CheckResult:
        try:
            readings = self.measure()
        except Exception as exc:  # a broken check reports unknown and never stops the others
            return CheckResult("unknown", failure_message(self.name, exc))
        return self.evaluate(readings)

    def grade(self, value: float) -> str:
        for status, threshold in (("critical", self.critical), ("warning", self.warning)):
            if threshold is None:
                continue
            reached = value < threshold if self.lower_is_worse else value >= threshold
            if reached:
                return status
        return "ok"

    def limit_note(self, status: str) -> str:
        """' (critical at >= 95%)' for a non-ok status, '' otherwise."""
        threshold = {"warning": self.warning, "critical": self.critical}.get(status)
        if threshold is None:
            return ""
        sign = "<" if self.lower_is_worse else ">="
        unit = self.unit if self.unit == "%" else f" {self.unit}"
        return f" ({status} at {sign} {threshold:g}{unit})"

    def problems(self) -> list[str]:
        """Problems of a configured check beyond option types; subclasses extend this."""
        top = 100.0 if self.unit.startswith("%") else math.inf
        for label, value in (("warning", self.warning), ("critical", self.critical)):
            if value is not None and not 0 <= value <= top:
                allowed = "between 0 and 100" if top == 100 else "0 or more"
                return [f"check '{self.name}' option '{label}' must be {allowed}, got {value:g}"]
        if self.warning is None or self.critical is None:
            return []
        if self.lower_is_worse and self.warning < self.critical:
            return [
                f"check '{self.name}': warning ({self.warning:g}) must not be below critical "
                f"({self.critical:g}) because lower is worse"
            ]
        if not self.lower_is_worse and self.warning > self.critical:
            return [
                f"check '{self.name}': warning ({self.warning:g}) must not be above critical "
                f"({self.critical:g})"
            ]
        return []

    @classmethod
    def option_names(cls) -> list[str]:
        return sorted(f.name for f in dataclasses.fields(cls))

    @classmethod
    def configure(cls, options: Mapping[str, Any]) -> tuple[Self | None, list[str]]:
        """Build the check from settings defaults and options; return (check, problems)."""
        values = {**setting("CHECK_THRESHOLDS", {}).get(cls.name, {}), **options}
        known = {f.name: f for f in dataclasses.fields(cls)}
        kwargs: dict[str, Any] = {}
        problems: list[str] = []
        for key, value in values.items():
            if key not in known:
                problems.append(
                    f"unknown option '{key}' for check '{cls.name}' "
                    f"(known: {', '.join(cls.option_names())})"
                )
                continue
            try:
                kwargs[key] = coerce_option(value, known[key].type)
            except ValueError as exc:
                problems.append(f"check '{cls.name}' option '{key}' {exc}")
        if problems:
            return None, problems
        check = cls(**kwargs)
        problems = check.problems()
        return (None if problems else check), problems


def coerce_option(value: Any, kind: Any) -> Any:
    """Turn a JSON value or a command-line string into the field's type, or raise ValueError."""
    if kind == float | None:
        if value is None or (isinstance(value, str) and value.strip().lower() == "none"):
            return None
        try:
            return _number(value)
        except ValueError:
            raise ValueError(f"must be a number or none, got {value!r}") from None
    if kind is float:
        return _number(value)
    if kind is int:
        number = _number(value)
        if not number.is_integer():
            raise ValueError(f"must be a whole number, got {value!r}")
        return int(number)
    if kind == list[str]:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        if not isinstance(value, list) or not all(isinstance(i, str) and i.strip() for i in value):
            raise ValueError(f"must be a list of non-empty strings, got {value!r}")
        return [item.strip() for item in value]
    raise TypeError(f"unsupported option type {kind!r}")


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"must be a number, got {value!r}")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ValueError(f"must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"must be a finite number, got {value!r}")
    return number


def run_parallel(tasks: Mapping[str, Callable[[], T]], timeout_s: float) -> dict[str, T]:
    """Run each task in its own thread; return the results that arrived within timeout_s.

    Tasks must not raise. Threads are daemons so a task stuck in the kernel (a statvfs on a
    dead NFS mount, a slow DNS lookup) can neither hold up the caller nor the process exit.
    """
    results: dict[str, T] = {}

    def work(key: str, task: Callable[[], T]) -> None:
        results[key] = task()

    threads = [
        threading.Thread(target=work, args=(key, task), daemon=True, name=f"check-{key}")
        for key, task in tasks.items()
    ]
    for thread in threads:
        thread.start()
    end = time.monotonic() + timeout_s
    for thread in threads:
        thread.join(max(0.0, end - time.monotonic()))
    return dict(results)
