"""Host context: validate a `context` node config and run the checks it names."""

import platform
import socket
import time
from datetime import UTC, datetime
from functools import partial
from typing import Any

from django.conf import settings

from apps.common.redact import redact_text

from .checks import CHECKS, STATUSES, Check, CheckResult, check_class
from .checks.base import run_parallel
from .models import CheckRun

CONFIG_KEYS = ("include", "options")


class CheckerError(Exception):
    """The checks could not be run at all (bad config, nothing to run, no time left)."""


def known_checks() -> str:
    return ", ".join(sorted(CHECKS))


def validate_context_config(config: dict) -> list[str]:
    """Problems of a context node config, one sentence each, without a node prefix."""
    if not isinstance(config, dict):
        return [f"config must be an object with keys include and options, got {config!r}"]
    problems = [
        f"unknown key '{key}' in config (allowed: {', '.join(CONFIG_KEYS)})"
        for key in config
        if key not in CONFIG_KEYS
    ]
    include = config.get("include")
    if include is not None:
        problems += _include_problems(include)
    options = config.get("options")
    if options is None:
        return problems
    if not isinstance(options, dict):
        return [*problems, f"options must be an object of check names to options, got {options!r}"]
    for name, check_options in options.items():
        if name not in CHECKS:
            problems.append(f"unknown check '{name}' in options (known: {known_checks()})")
        elif not isinstance(check_options, dict):
            problems.append(f"options for check '{name}' must be an object, got {check_options!r}")
        else:
            if isinstance(include, list) and name not in include:
                problems.append(f"options given for check '{name}' which is not in include")
            problems += check_class(name).configure(check_options)[1]
    return problems


def _include_problems(include: Any) -> list[str]:
    if not isinstance(include, list) or not all(isinstance(name, str) for name in include):
        return [f"include must be a list of check names, got {include!r}"]
    if not include:
        return ["include is empty; leave it out to run all checks"]
    problems = [
        f"unknown check '{name}' in include (known: {known_checks()})"
        for name in include
        if name not in CHECKS
    ]
    problems += [
        f"check '{name}' is listed more than once in include"
        for name in sorted({n for n in include if include.count(n) > 1})
    ]
    return problems


def default_checks() -> list[str]:
    """All checks minus CHECKERS_SKIP, in registry order."""
    skip = settings.CHECKERS_SKIP
    unknown = [name for name in skip if name not in CHECKS]
    if unknown:
        raise CheckerError(
            f"CHECKERS_SKIP names unknown check '{unknown[0]}' (known: {known_checks()})"
        )
    return [name for name in CHECKS if name not in skip]


def run_checks(
    include: list[str] | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    *,
    trace_id: str = "",
    pipeline_run: Any = None,
    deadline: float | None = None,
    reuse: bool = False,
    operator: bool = False,
) -> dict[str, Any]:
    """Run the checks concurrently and record one CheckRun each.

    reuse=True: checks that this machine already ran under the same trace id (the
    check_and_alert execution that started this run) are taken from their CheckRun rows, which
    are linked to `pipeline_run`, instead of being measured again.

    `include=None` runs every check not in CHECKERS_SKIP; an explicit include runs exactly
    those. `deadline` is a time.monotonic() value; each check gets CHECKERS_TIMEOUT_S or
    whatever is left before the deadline, whichever is less.

    operator=True: the options come from the operator (a command line), not from a definition;
    the network check may then reach private targets (see NetworkCheck.private_allowed).
    """
    options = options or {}
    config: dict[str, Any] = {"options": options}
    if include is not None:
        config["include"] = include
    problems = validate_context_config(config)
    if problems:
        raise CheckerError("; ".join(problems))
    names = list(include) if include is not None else default_checks()
    if not names:
        raise CheckerError("no checks to run: CHECKERS_SKIP skips all of them")
    timeout_s = settings.CHECKERS_TIMEOUT_S
    if deadline is not None:
        timeout_s = min(timeout_s, deadline - time.monotonic())
        if timeout_s <= 0:
            raise CheckerError("no time left before the deadline to run checks")

    host = host_info()
    results: dict[str, dict[str, Any]] = {}
    if reuse and trace_id:
        results = _recorded(trace_id, host["hostname"], names, pipeline_run)
    checks = {
        name: _configured(name, options.get(name, {})) for name in names if name not in results
    }
    for check in checks.values():
        check.operator_options = operator  # an attribute, not an option: no config can set it
    done = run_parallel({name: partial(_timed, check) for name, check in checks.items()}, timeout_s)
    for name in checks:
        outcome, duration_ms = done.get(name) or (
            CheckResult("unknown", f"{name} check timed out after {timeout_s:g}s"),
            timeout_s * 1000,
        )
        results[name] = {
            "status": outcome.status,
            "message": redact_text(outcome.message),
            "metrics": outcome.metrics,
            "duration_ms": round(duration_ms, 2),
        }

    CheckRun.objects.bulk_create(
        CheckRun(
            check_name=name,
            host=host["hostname"],
            status=result["status"],
            message=result["message"],
            metrics=result["metrics"],
            duration_ms=result["duration_ms"],
            trace_id=trace_id,
            pipeline_run=pipeline_run,
        )
        for name, result in results.items()
        if name in checks
    )
    results = {name: results[name] for name in names}
    summary = {status: 0 for status in STATUSES}
    for result in results.values():
        summary[result["status"]] += 1
    output = {"checks_run": len(results), "checks": results, "summary": summary, "host": host}
    reused = [name for name in names if name not in checks]
    if reused:  # measured by the check_and_alert execution that started this run
        output["reused"] = reused
    return output


def _recorded(
    trace_id: str, hostname: str, names: list[str], pipeline_run: Any
) -> dict[str, dict[str, Any]]:
    """Results of `names` measured on this host under `trace_id`, newest row per check."""
    rows = CheckRun.objects.filter(trace_id=trace_id, host=hostname, check_name__in=names)
    found: dict[str, dict[str, Any]] = {}
    for row in rows.order_by("-id"):
        found.setdefault(
            row.check_name,
            {
                "status": row.status,
                "message": row.message,
                "metrics": row.metrics,
                "duration_ms": row.duration_ms,
            },
        )
    if found and pipeline_run is not None and pipeline_run.pk is not None:
        rows.filter(pipeline_run__isnull=True).update(pipeline_run=pipeline_run)
    return found


def _configured(name: str, options: dict[str, Any]) -> Check:
    check, problems = check_class(name).configure(options)
    if check is None:  # validate_context_config already reported these
        raise CheckerError("; ".join(problems))
    return check


def _timed(check: Check) -> tuple[CheckResult, float]:
    started = time.perf_counter()
    result = check.run()
    return result, (time.perf_counter() - started) * 1000


def host_info() -> dict[str, Any]:
    """Who ran the checks; a failing psutil call leaves its field None rather than the run."""
    import psutil

    try:
        boot: float | None = psutil.boot_time()
    except Exception:
        boot = None
    return {
        "hostname": socket.gethostname(),
        "os": f"{platform.system()} {platform.release()}",
        "platform": platform.platform(),
        "uptime_s": int(time.time() - boot) if boot else None,
        "boot_time": datetime.fromtimestamp(boot, UTC).isoformat(timespec="seconds")
        if boot
        else None,
        "cpu_count": psutil.cpu_count() or 0,
    }
