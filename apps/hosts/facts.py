"""Host facts for a run, from the host the incident is about — never another host's numbers.

Sources are tried in order; the first that has facts for the target host wins:
- `local`: psutil here, only when the target is this machine (HOST_NAME, HOST_ALIASES) or no
  host is named;
- `agent`: the host's latest agent snapshot, when younger than HOST_SNAPSHOT_MAX_AGE_S;
- `prometheus`: the host's node_exporter series over the Prometheus HTTP API (PROMETHEUS_URL).
A source yields readings; the same check classes grade them with the same thresholds and
messages, whatever the source. No source: `available` is false with one line saying why.
"""

import time
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

SOURCES = ("local", "agent", "prometheus")
STATUSES = ("ok", "warning", "critical", "unknown")


class Unavailable(Exception):
    """A source has no facts for the host (one-line reason)."""


def host_facts(
    target: str,
    sources: list[str] | tuple[str, ...] = SOURCES,
    *,
    include: list[str] | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    at: datetime | None = None,
    trace_id: str = "",
    pipeline_run: Any = None,
    deadline: float | None = None,
) -> dict[str, Any]:
    """The context of one host: the checks' results, graded here, with the source named.

    target: the host the incident is about ("" means this machine). Raises CheckerError only
    for a bad include/options (the node's config check reports those first)."""
    from .services import is_this_host

    name = target or settings.HOST_NAME
    local = not target or is_this_host(target)
    reasons = []
    for source in sources:
        try:
            if source == "local":
                if not local:
                    continue  # not a failure: psutil here says nothing about that host
                output = from_local(name, include, options, trace_id, pipeline_run, deadline)
                if not target:
                    output["facts_note"] = hub_facts_note(name)
                return output
            if source == "agent":
                return from_agent(name, include, options)
            if source == "prometheus":
                return from_prometheus(name, include, options, at, deadline)
        except Unavailable as exc:
            reasons.append(str(exc))
    if not reasons and not local:
        reasons.append(f"{name} is not this machine ({settings.HOST_NAME}) and no other source")
    return {
        "host": name,
        "available": False,
        "source": None,
        "reason": "; ".join(reasons) or "no source was asked",
        "observed_at": None,
        "age_s": None,
        "checks_run": 0,
        "checks": {},
        "summary": dict.fromkeys(STATUSES, 0),
        "host_info": {},
    }


def hub_facts_note(name: str) -> str:
    """What every view says when the alert named no host and the facts are this machine's:
    they are the hub's, not those of the host that alerted."""
    return f"Facts from the hub {name} (the alert names no host)"


def from_local(name, include, options, trace_id, pipeline_run, deadline) -> dict[str, Any]:
    from apps.checkers.services import run_checks

    output = run_checks(
        include,
        options,
        trace_id=trace_id,
        pipeline_run=pipeline_run,
        deadline=deadline,
        reuse=True,
    )
    info = output.pop("host")
    return described(output, name, "local", timezone.now(), info)


def from_agent(name: str, include, options) -> dict[str, Any]:
    from .services import find

    max_age = settings.HOST_SNAPSHOT_MAX_AGE_S
    host = find(name)
    if host is None or host.snapshot_at is None or host.last_source != "agent":
        raise Unavailable(f"no agent report for {name} in the last {max_age:g} s")
    if host.silent_since is not None:
        since = f"{host.silent_since:%Y-%m-%d %H:%M:%S} UTC"
        raise Unavailable(f"{host.name} stopped reporting (silent since {since})")
    now = timezone.now()
    age = (now - host.snapshot_at).total_seconds()
    if age > max_age:
        heard = (now - host.last_seen).total_seconds()
        if heard <= max_age:  # it does report: the snapshot's own time is off
            raise Unavailable(
                f"the latest agent snapshot of {host.name} arrived {heard:.0f} s ago but says it "
                f"was taken {age:.0f} s ago (over {max_age:g} s; is the agent's clock right?)"
            )
        raise Unavailable(
            f"no agent report for {name} in the last {max_age:g} s (the latest is {age:.0f} s old)"
        )
    reported = (host.snapshot or {}).get("checks") or {}
    output = graded(
        {check: result.get("readings") or {} for check, result in reported.items()},
        include,
        options,
        reported=reported,
    )
    info = dict((host.snapshot or {}).get("host") or {})
    info.setdefault("hostname", host.name)
    return described(output, host.name, "agent", host.snapshot_at, info)


def from_prometheus(name: str, include, options, at, deadline) -> dict[str, Any]:
    if not settings.PROMETHEUS_URL:
        raise Unavailable("PROMETHEUS_URL is not set")
    from .prometheus import fetch_readings

    if deadline is not None and deadline - time.monotonic() <= 0.05:
        raise Unavailable("Prometheus: no time left before the node's deadline")
    result = fetch_readings(
        settings.PROMETHEUS_URL,
        name,
        at=at,
        timeout_s=settings.PROMETHEUS_TIMEOUT_S,
        deadline=deadline,
    )
    if not result.readings:
        raise Unavailable(result.reason or f"Prometheus has no series for {name}")
    output = graded(result.readings, include, options)
    output["prometheus"] = {"instance": result.instance, "queries": result.queries}
    if result.reason:
        output["prometheus"]["note"] = result.reason
    observed = result.observed_at or timezone.now()
    return described(
        output, name, "prometheus", observed, {"hostname": name, "instance": result.instance}
    )


def graded(
    readings: dict[str, dict[str, Any]],
    include: list[str] | None,
    options: dict[str, dict[str, Any]] | None,
    *,
    reported: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Grade readings from elsewhere with this hub's check classes and the node's options.

    A check the source has no readings for is left out (a source never invents one); a
    reported result without readings keeps the status and message its agent gave it."""
    from apps.checkers.checks import check_class
    from apps.checkers.services import CheckerError

    names = [name for name in (include or list(readings)) if name in readings]
    results: dict[str, dict[str, Any]] = {}
    for name in names:
        check, problems = check_class(name).configure((options or {}).get(name, {}))
        if check is None:
            raise CheckerError("; ".join(problems))
        result: dict[str, Any]
        if readings[name]:
            outcome = check.evaluate(readings[name])
            result = {"status": outcome.status, "message": outcome.message}
            result["metrics"] = outcome.metrics
        else:
            own = (reported or {}).get(name) or {}
            result = {
                "status": own.get("status", "unknown"),
                "message": own.get("message") or f"{name}: no readings",
                "metrics": {},
            }
        result["duration_ms"] = float(((reported or {}).get(name) or {}).get("duration_ms", 0))
        results[name] = result
    summary = dict.fromkeys(STATUSES, 0)
    for result in results.values():
        summary[result["status"]] = summary.get(result["status"], 0) + 1
    missing = [name for name in (include or []) if name not in readings]
    output = {"checks_run": len(results), "checks": results, "summary": summary}
    if missing:
        output["missing"] = missing
    return output


def described(
    output: dict[str, Any], name: str, source: str, observed: datetime, info: dict[str, Any]
) -> dict[str, Any]:
    age = max(0.0, (timezone.now() - observed).total_seconds())
    return {
        "host": name,
        "available": True,
        "source": source,
        "observed_at": observed.isoformat(),
        "age_s": round(age, 1),
        **output,
        "host_info": info,
    }
