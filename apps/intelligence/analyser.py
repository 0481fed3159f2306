"""The deterministic analyser: rules over the incident, its alerts and the host checks.

Fast (pure Python over a few dicts) because it runs in every pipeline, and the fallback when an
LLM provider fails. Registered as the provider "local" (providers.PROVIDERS), so it offers the
provider interface: CACHED, default_model() and answer().
"""

import time
from typing import TYPE_CHECKING, Any

from apps.common.severity import SEVERITIES, worst

from . import host_look
from .advice import BUILDERS, PRIORITY
from .facts import Facts
from .host_look import Look
from .kinds import KIND_LABELS, alert_text, kinds_in
from .providers.base import Result
from .rules import Finding, detect

if TYPE_CHECKING:
    from .config import Options

MODEL = "rules"
CACHED = False  # cheap, and it looks at the host as it is now: a cached answer would be stale


def default_model() -> str:
    return MODEL


def answer(facts: Facts, options: "Options", deadline: float | None) -> Result:
    """The provider interface: the analysis, fitted to and checked against the answer schema."""
    from .schema import Answer, fit_limits

    fields = analyze(facts, inspect=options.inspect, deadline=deadline)
    return Result(Answer.model_validate(fit_limits(fields)).model_dump(), MODEL)


def _alert_line(alert: dict[str, Any]) -> str:
    return (
        f"alert '{alert['name'][:120]}' ({alert['source'] or 'unknown source'}, "
        f"{alert['status']}, {alert['severity'] or 'no severity'})"
    )


def _evidence(facts: Facts, findings: list[Finding]) -> list[str]:
    lines = []
    if facts.incident:
        i = facts.incident
        lines.append(f"incident #{i['id']} '{i['title'][:120]}' is {i['status']} ({i['severity']})")
    for finding in findings:
        for alert in finding.alerts[:3]:
            lines.append(f"{_alert_line(alert)}: its text names {KIND_LABELS[finding.kind]}")
    if not any(f.alerts for f in findings):
        lines += [_alert_line(alert) for alert in facts.firing_alerts[:5]]
    for name, check in facts.checks.items():
        lines.append(f"check {name}: {check['status']} - {check['message'][:200]}")
    return lines[:50]


def _host_prefix(facts: Facts) -> str:
    return f"{facts.host}: " if facts.host else ""


def _confidence(finding: Finding) -> float:
    if finding.alerts and finding.check:
        return 0.9
    if finding.check:
        return 0.8
    return 0.65 if finding.alert_percent is not None else 0.6


def _firing_text(facts: Facts) -> str:
    counts: dict[tuple[str, str], int] = {}
    for alert in facts.firing_alerts:
        key = (alert["name"][:80], alert["severity"] or "no severity")
        counts[key] = counts.get(key, 0) + 1
    if not counts:
        return ""
    shown = ", ".join(
        f"'{name}'{f' x{n}' if n > 1 else ''} ({severity})"
        for (name, severity), n in list(counts.items())[:3]
    )
    more = f" and {len(counts) - 3} more" if len(counts) > 3 else ""
    if facts.alerts_total > len(facts.alerts):
        more += f" (rules read {len(facts.alerts)} of {facts.alerts_total} alerts)"
    return f" Firing: {shown}{more}."


def _runbooks(facts: Facts) -> list[dict[str, Any]]:
    urls = []
    for alert in facts.firing_alerts:
        for mapping in (alert["annotations"], alert["labels"]):
            url = mapping.get("runbook_url") or mapping.get("runbook")
            if isinstance(url, str) and url.startswith(("http://", "https://")) and url not in urls:
                urls.append(url)
    return [
        {"title": "Follow the alert's runbook", "detail": url, "priority": "low", "commands": []}
        for url in urls[:2]
    ]


def _with_findings(facts: Facts, findings: list[Finding], look: Look) -> dict[str, Any]:
    parts = [BUILDERS[f.kind](f, facts, look) for f in findings]
    primary = findings[0]
    labels = ", ".join(KIND_LABELS[f.kind] for f in findings)
    summary = f"{_host_prefix(facts)}{labels}. {parts[0].detail[0].upper()}{parts[0].detail[1:]}."
    if len(parts) > 1:
        summary += " Also: " + "; ".join(p.detail for p in parts[1:6]) + "."
    summary += _firing_text(facts)
    if facts.resolved:
        summary += " The incident itself is resolved, but the host checks above are still not ok."
    return {
        "summary": summary,
        "probable_cause": parts[0].cause,
        "severity_assessment": primary.severity,
        "confidence": _confidence(primary),
        "recommendations": [p.recommendation for p in parts] + _runbooks(facts),
        "evidence": _evidence(facts, findings),
    }


def _resolved(facts: Facts) -> dict[str, Any]:
    kinds = sorted({k for a in facts.alerts for k in kinds_in(alert_text(a))})
    what = f" ({', '.join(KIND_LABELS[k] for k in kinds)})" if kinds else ""
    title = (
        f"incident #{facts.incident['id']} '{facts.incident['title'][:120]}'"
        if facts.incident
        else "the alerts"
    )
    count = f"{len(facts.alerts)} alert{'s' if len(facts.alerts) != 1 else ''}"
    checks = "no host check is failing" if facts.checks else "no host checks were given"
    return {
        "summary": f"{_host_prefix(facts)}{title} is resolved{what}: {count} recovered; {checks}.",
        "probable_cause": f"The condition cleared{what}; the rules see nothing still wrong.",
        "severity_assessment": "ok",
        "confidence": 0.9,
        "recommendations": [
            {
                "title": "Confirm the recovery and note the cause",
                "detail": "Check that the service is back for its users and record what "
                "fixed it, so a recurrence is quicker to handle.",
                "priority": "low",
                "commands": [],
            }
        ],
        "evidence": _evidence(facts, []) + [f"{count} resolved"],
    }


def _unrecognised(facts: Facts) -> dict[str, Any]:
    firing = facts.firing_alerts
    severity = worst(
        [a["severity"] for a in firing if a["severity"] in SEVERITIES]
        + ([facts.incident["severity"]] if facts.incident else [])
        + ["info"]
    )
    checks_ok = bool(facts.checks) and all(c["status"] == "ok" for c in facts.checks.values())
    plural = "s" if len(firing) != 1 else ""
    where = f"{firing[0]['source'] or 'unknown source'}: '{firing[0]['name'][:120]}'"
    hint = (
        f" All {len(facts.checks)} host checks are ok, so the problem is probably in the "
        "application or a dependency rather than host resources."
        if checks_ok
        else ""
    )
    return {
        "summary": f"{_host_prefix(facts)}{len(firing)} firing alert{plural} that no rule "
        f"recognises.{_firing_text(facts)}{hint}",
        "probable_cause": "Not determined: the alerts name no resource the rules know (CPU, "
        "memory, swap, disk, inodes, load, processes, network, reboots).",
        "severity_assessment": severity,
        "confidence": 0.3,
        "recommendations": _runbooks(facts)
        + [
            {
                "title": "Investigate from the alert's source",
                "detail": f"Open the monitor that fired ({where}) and read its query and "
                "recent values.",
                "priority": PRIORITY.get(severity, "low"),
                "commands": [],
            }
        ],
        "evidence": _evidence(facts, []),
    }


def _quiet(facts: Facts) -> dict[str, Any]:
    if not facts.checks:
        return {
            "summary": f"{_host_prefix(facts)}nothing to analyse: no firing alerts and no "
            "host check results were given.",
            "probable_cause": "",
            "severity_assessment": "info",
            "confidence": 0.1,
            "recommendations": [],
            "evidence": _evidence(facts, []),
        }
    unknown = sorted(
        n for n, c in facts.checks.items() if c["status"] not in ("ok", "warning", "critical")
    )
    ok = len(facts.checks) - len(unknown)
    names = ", ".join(sorted(facts.checks))
    summary = f"{facts.host or 'The host'} looks healthy: {ok} of {len(facts.checks)} checks ok"
    summary += f" ({names})"
    summary += f"; could not check {', '.join(unknown)}." if unknown else "."
    recommendations = []
    if unknown:
        recommendations.append(
            {
                "title": f"Fix the check{'s' if len(unknown) > 1 else ''} that could not run: "
                f"{', '.join(unknown)}",
                "detail": "; ".join(f"{n}: {facts.checks[n]['message'][:200]}" for n in unknown),
                "priority": "low",
                "commands": [],
            }
        )
    return {
        "summary": summary,
        "probable_cause": "No problem found.",
        "severity_assessment": "info" if unknown else "ok",
        "confidence": 0.7 if unknown else 0.85,
        "recommendations": recommendations,
        "evidence": _evidence(facts, []),
    }


def analyze(facts: Facts, *, inspect: bool = True, deadline: float | None = None) -> dict[str, Any]:
    """The analysis fields of the output (summary .. evidence) for facts."""
    end = time.monotonic() + 0.5
    if deadline is not None:
        end = min(end, deadline)
    local_name = str(facts.host_info.get("hostname") or "")
    here = facts.measured_here and host_look.is_this_host(facts.host, local_name)
    look = Look(inspect and here, end)
    return with_facts_note(facts, _analysis(facts, look))


def with_facts_note(facts: Facts, fields: dict[str, Any]) -> dict[str, Any]:
    """Say so when the context had no facts of the host, rather than analyse without them;
    and when the alert named no host, that the facts are the hub's own."""
    if facts.no_facts_reason:
        note = f"No host facts for {facts.host or 'the host'}: {facts.no_facts_reason}."
    elif facts.facts_note:
        note = f"{facts.facts_note}."
    else:
        return fields
    fields["summary"] = f"{note} {fields['summary'].strip()}"  # first: summaries get cut
    fields["evidence"] = [*fields["evidence"], note][:50]
    return fields


def _analysis(facts: Facts, look: Look) -> dict[str, Any]:
    findings = detect(facts)
    if facts.resolved:
        # Alerts that ended say nothing about now; only failing checks still count.
        findings = [f for f in findings if f.check]
        for finding in findings:
            finding.alerts = []
        if not findings:
            return _resolved(facts)
    if findings:
        return _with_findings(facts, findings, look)
    if facts.firing_alerts:
        return _unrecognised(facts)
    return _quiet(facts)
