"""The local provider: deterministic rules over the incident, its alerts and the host checks.

Fast (pure Python over a few dicts) because it runs in every pipeline; the only I/O is a
bounded look at this machine (largest entries of a full mount, top processes by RSS) when a
finding needs it and the incident is about this machine.
"""

import os
import shlex
import time
from dataclasses import dataclass
from typing import Any

from .. import host_look
from ..facts import Facts
from ..rules import (
    KIND_LABELS,
    SEVERITY_RANK,
    Finding,
    alert_text,
    detect,
    kinds_in,
    missing_processes,
    unreachable_targets,
)

NAME = "local"
MODEL = "rules"
PRIORITY = {"critical": "critical", "warning": "medium", "info": "low"}


def default_model() -> str:
    return MODEL


@dataclass
class Look:
    """What the rules may do beyond reading their input."""

    allowed: bool  # config "inspect" and the incident is about this machine
    end: float  # monotonic time by which any look must stop

    def budget(self, cap: float = 0.5) -> float:
        return max(0.0, min(cap, self.end - time.monotonic()))


@dataclass
class Part:
    """One finding turned into words: a detail for the summary, a cause, a recommendation."""

    detail: str
    cause: str
    recommendation: dict[str, Any]


def human_bytes(value: float | None) -> str:
    if value is None:
        return "?"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def human_age(seconds: int) -> str:
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.1f} days ago"


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def pct(value: Any) -> str:
    return f"{float(value):.1f}%" if isinstance(value, int | float) else "?%"


def _metrics(finding: Finding) -> dict[str, Any]:
    return finding.check["metrics"] if finding.check else {}


def _alert_names(finding: Finding) -> str:
    names = sorted({a.get("name") or "?" for a in finding.alerts})
    shown = ", ".join(f"'{n[:80]}'" for n in names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _from_alert(finding: Finding, what: str) -> str:
    quoted = f" at {pct(finding.alert_percent)}" if finding.alert_percent else ""
    return f"{what}{quoted} reported by alert {_alert_names(finding)}"


def _title(base: str, detail: str, numeric: bool) -> str:
    """Titles carry the numbers when there are any; alert names stay in the detail."""
    return f"{base} ({detail})" if numeric else base


def _rec(finding: Finding, title: str, detail: str, commands: list[str]) -> dict[str, Any]:
    return {
        "title": title,
        "detail": detail,
        "priority": PRIORITY[finding.severity],
        "commands": commands,
    }


def _cpu(finding: Finding, facts: Facts, look: Look) -> Part:
    m = _metrics(finding)
    busy = m.get("percent", finding.alert_percent)
    cores = f" on {m['cpu_count']} CPUs" if m.get("cpu_count") else ""
    detail = (
        f"CPU {pct(busy)} busy{cores}" if busy is not None else _from_alert(finding, "high CPU")
    )
    iowait, steal = m.get("iowait_percent") or 0, m.get("steal_percent") or 0
    if iowait >= 20:
        cause = (
            f"The CPUs are mostly waiting on I/O ({pct(iowait)} iowait): "
            "a slow disk or network filesystem, not computation."
        )
        commands = ["iostat -x 1 3", "ps -eo state,pid,comm | awk '$1 ~ /^D/'"]
        title = f"Find what is waiting on I/O ({pct(iowait)} iowait)"
        advice = "Find the busy device with iostat and the processes stuck in state D."
    elif steal >= 10:
        cause = (
            f"The hypervisor is taking {pct(steal)} of CPU time (steal): "
            "the VM is starved by its neighbours."
        )
        commands = ["vmstat 1 5"]
        title = f"Raise the VM's CPU allocation or move it ({pct(steal)} steal)"
        advice = "The guest cannot fix this itself; ask the hypervisor's owner for dedicated CPU."
    else:
        cause = f"CPU saturation: {detail}."
        commands = [
            "top -b -n 1 -o %CPU | head -n 20",
            "ps -eo pid,comm,%cpu --sort=-%cpu | head -n 10",
        ]
        title = _title("Find the processes using the CPU", detail, busy is not None)
        advice = (
            "If the load is expected, add capacity; otherwise stop or throttle the busiest process."
        )
    top = m.get("top_processes")
    extra = ""
    if isinstance(top, list) and top:
        extra = (
            " Busiest: "
            + ", ".join(
                f"{p.get('name', '?')} (pid {p.get('pid', '?')}, {pct(p.get('cpu_percent'))})"
                for p in top[:3]
                if isinstance(p, dict)
            )
            + "."
        )
    text = f"{cap(detail)}.{extra} {advice}"
    return Part(detail, cause, _rec(finding, title, text, commands))


def _top_memory(finding: Finding, look: Look) -> list[dict[str, Any]]:
    top = _metrics(finding).get("top_processes")
    if isinstance(top, list) and top:
        return [p for p in top if isinstance(p, dict)][:3]
    if look.allowed and look.budget() > 0:
        return host_look.top_memory_processes(limit=3, time_budget_s=look.budget())
    return []


def _memory(finding: Finding, facts: Facts, look: Look) -> Part:
    m = _metrics(finding)
    used = m.get("percent", finding.alert_percent)
    if used is not None:
        available = m.get("available_bytes")
        detail = f"memory {pct(used)} used" + (
            f", {human_bytes(available)} available" if available is not None else ""
        )
    else:
        detail = _from_alert(finding, "high memory use")
    top = _top_memory(finding, look)
    top_text = ", ".join(
        f"{p.get('name', '?')} (pid {p.get('pid', '?')}, {human_bytes(p.get('rss_bytes'))})"
        for p in top
    )
    cause = f"High memory use: {detail}"
    if top:
        first = top[0]
        cause += (
            f"; the largest resident process is {first.get('name', '?')} "
            f"(pid {first.get('pid', '?')}, {human_bytes(first.get('rss_bytes'))})"
        )
    cause += "."
    text = f"{cap(detail)}."
    if top_text:
        text += f" Largest by resident memory: {top_text}."
    text += (
        " Restart or cap the largest consumer if it is leaking; check the kernel log for OOM kills."
    )
    commands = [
        "ps -eo pid,comm,rss --sort=-rss | head -n 10",
        "free -m",
        "journalctl -k --since -1h --no-pager | grep -i 'out of memory'",
    ]
    title = _title("Free memory", detail, used is not None)
    return Part(detail, cause, _rec(finding, title, text, commands))


def _swap(finding: Finding, facts: Facts, look: Look) -> Part:
    m = _metrics(finding)
    used = m.get("percent", finding.alert_percent)
    if used is not None:
        detail = f"swap {pct(used)} used"
        if m.get("used_bytes") is not None and m.get("total_bytes"):
            detail += f", {human_bytes(m['used_bytes'])} of {human_bytes(m['total_bytes'])}"
    else:
        detail = _from_alert(finding, "swap use")
    cause = f"Memory pressure is pushing pages to disk: {detail}."
    text = (
        f"{cap(detail)}. Find what grew in memory; heavy swapping slows every process on the host."
    )
    title = _title("Relieve swapping", detail, used is not None)
    return Part(
        detail, cause, _rec(finding, title, text, ["vmstat 1 5", "swapon --show", "free -m"])
    )


def _largest_text(mount: str, look: Look) -> str:
    if not (look.allowed and os.path.isdir(mount)) or look.budget() <= 0:
        return ""
    found = host_look.largest_entries(mount, time_budget_s=look.budget())
    if not found["entries"]:
        return ""
    parts = []
    for entry in found["entries"]:
        size = (
            human_bytes(entry["bytes"])
            if entry["complete"]
            else f"at least {human_bytes(entry['bytes'])}"
        )
        recent = entry["modified_s_ago"] < host_look.RECENT_S
        written = f", last written {human_age(entry['modified_s_ago'])}" if recent else ""
        parts.append(f"{entry['name']} {size}{written}")
    partial = "" if found["complete"] else " (partial look, stopped at its time/entry limit)"
    return f" Largest entries directly under {mount}{partial}: {'; '.join(parts)}."


def _disk(finding: Finding, facts: Facts, look: Look) -> Part:
    mount = finding.data.get("mount")
    if mount:
        path = mount["path"]
        detail = f"{path} {pct(mount['percent'])} full"
        if mount["free_bytes"] is not None:
            detail += f", {human_bytes(mount['free_bytes'])} free"
        quoted = shlex.quote(path)
        text = f"{cap(detail)}.{_largest_text(path, look)}"
    else:
        detail, quoted = _from_alert(finding, "low disk space"), "/"
        text = f"{cap(detail)}."
        path = ""
    text += (
        " Rotate or delete old logs, clear package caches, and look for deleted files still"
        " held open."
    )
    commands = [
        "df -h",
        f"du -xh --max-depth=1 {quoted} 2>/dev/null | sort -h | tail -n 10",
        "lsof -nP +L1 2>/dev/null | head -n 20",
    ]
    cause = f"Disk space is running out: {detail}."
    title = f"Free space on {path} ({detail})" if path else "Free space on the full filesystem"
    return Part(detail, cause, _rec(finding, title, text, commands))


def _inodes(finding: Finding, facts: Facts, look: Look) -> Part:
    mount = finding.data.get("mount")
    if mount:
        path = mount["path"]
        detail = f"{path} has used {pct(mount['inodes_percent'])} of its inodes"
    else:
        path, detail = "/", _from_alert(finding, "inode exhaustion")
    quoted = shlex.quote(path)
    cause = f"Inode exhaustion: {detail}; new files cannot be created even with free space left."
    text = (
        f"{cap(detail)}. Find the directory holding millions of small files "
        "(sessions, caches, mail queues) and clean it."
    )
    commands = [
        "df -i",
        f"du --inodes -x --max-depth=2 {quoted} 2>/dev/null | sort -n | tail -n 10",
    ]
    return Part(detail, cause, _rec(finding, f"Free inodes on {path}", text, commands))


def _load(finding: Finding, facts: Facts, look: Look) -> Part:
    m = _metrics(finding)
    per_core = m.get("per_core", m.get("load1_per_core"))
    if per_core is not None:
        averages = " ".join(
            f"{m[k]:.2f}" for k in ("load1", "load5", "load15") if isinstance(m.get(k), int | float)
        )
        cores = f" on {m['cpu_count']} CPUs" if m.get("cpu_count") else ""
        detail = f"load {per_core:.2f} per core" + (f", {averages}{cores}" if averages else "")
    else:
        detail = _from_alert(finding, "high load")
    cpu_busy = (facts.checks.get("cpu") or {}).get("metrics", {}).get("percent")
    if isinstance(cpu_busy, int | float) and cpu_busy < 50:
        cause = (
            f"High load with idle CPUs ({pct(cpu_busy)} busy): processes are blocked, "
            "usually on disk or NFS I/O (state D)."
        )
    else:
        cause = f"More runnable processes than CPUs: {detail}."
    text = f"{cap(detail)}. Look for processes in state D (I/O wait) and for runaway workers."
    commands = ["uptime", "vmstat 1 5", "ps -eo state,pid,comm | awk '$1 ~ /^[DR]/'"]
    title = _title("Reduce load", detail, per_core is not None)
    return Part(detail, cause, _rec(finding, title, text, commands))


def _process(finding: Finding, facts: Facts, look: Look) -> Part:
    missing = missing_processes(_metrics(finding))
    if missing:
        detail = f"not running: {', '.join(missing[:5])}" + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        plural = "es" if len(missing) > 1 else ""
        cause = f"Expected process{plural} {detail.removeprefix('not running: ')} not running."
        commands = []
        for name in missing[:3]:
            commands += [
                f"systemctl status {shlex.quote(name)}",
                f"journalctl -u {shlex.quote(name)} -n 50 --no-pager",
            ]
    else:
        detail = _from_alert(finding, "a service down")
        cause = f"A service is down: {_alert_names(finding)}."
        commands = ["systemctl --failed", "journalctl -p err -n 50 --no-pager"]
    detail = f"process {detail}" if missing else detail
    text = (
        f"{cap(detail)}. Read why it stopped in its log before restarting it; "
        "a crash loop needs its cause fixed first."
    )
    title = _title("Restart the stopped process", detail, bool(missing))
    return Part(detail, cause, _rec(finding, title, text, commands))


def _split_target(target: str) -> tuple[str, str]:
    host, _, port = target.rpartition(":")
    if host and port.isdigit() and "]" not in port:
        return host.strip("[]"), port
    return target, ""


def _network(finding: Finding, facts: Facts, look: Look) -> Part:
    targets = unreachable_targets(_metrics(finding))
    if targets:
        shown = ", ".join(f"{t} ({error})" if error else t for t, error in targets[:5])
        detail = f"unreachable from this host: {shown}"
        cause = f"Network path down: {detail}."
        host, port = _split_target(targets[0][0])
    else:
        detail = _from_alert(finding, "host unreachable")
        cause = f"The host or the network path to it is down: {_alert_names(finding)}."
        host, port = facts.host, ""
    quoted = shlex.quote(host or "HOST")
    commands = [f"ping -c 3 {quoted}", f"ip route get {quoted}"]
    if port:
        commands.append(f"nc -vz -w 3 {quoted} {port}")
    text = (
        f"{cap(detail)}. Check whether the target is up, then routes, firewalls and DNS "
        "between the two."
    )
    return Part(detail, cause, _rec(finding, "Restore connectivity", text, commands))


def _reboot(finding: Finding, facts: Facts, look: Look) -> Part:
    m = _metrics(finding)
    minutes = m.get("uptime_min", m.get("uptime_minutes"))
    if isinstance(minutes, int | float):
        detail = f"host up only {minutes:.0f} min"
        if m.get("boot_time"):
            detail += f" (booted {m['boot_time']})"
    else:
        detail = _from_alert(finding, "a reboot")
    cause = f"The host restarted recently: {detail}."
    text = (
        f"{cap(detail)}. Find out whether the reboot was planned; if not, read the previous "
        "boot's log for a panic, OOM or power event."
    )
    commands = [
        "last -x reboot shutdown | head -n 5",
        "journalctl --list-boots --no-pager | tail -n 3",
        "journalctl -b -1 -p err -n 50 --no-pager",
    ]
    return Part(detail, cause, _rec(finding, "Find why the host rebooted", text, commands))


def _temperature(finding: Finding, facts: Facts, look: Look) -> Part:
    detail = _from_alert(finding, "high temperature")
    cause = f"A hardware temperature alert: {_alert_names(finding)}."
    text = f"{cap(detail)}. Check fans, airflow and whether the CPU is throttling."
    return Part(detail, cause, _rec(finding, "Check cooling", text, ["sensors"]))


BUILDERS = {
    "cpu": _cpu,
    "memory": _memory,
    "swap": _swap,
    "disk": _disk,
    "inodes": _inodes,
    "load": _load,
    "process": _process,
    "network": _network,
    "reboot": _reboot,
    "temperature": _temperature,
}


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
    severity = max(
        [a["severity"] for a in firing if a["severity"] in SEVERITY_RANK]
        + ([facts.incident["severity"]] if facts.incident else [])
        + ["info"],
        key=SEVERITY_RANK.__getitem__,
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
    look = Look(inspect and host_look.is_this_host(facts.host, local_name), end)
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
