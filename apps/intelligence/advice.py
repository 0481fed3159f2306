"""Per-kind advice of the analyser: each finding turned into a detail for the summary, a
probable cause and a recommendation with the commands to run.

Builders read the check's metrics when there are any and fall back to what the alerts say; the
only I/O is a bounded look at this machine (host_look) when the Look allows it.
"""

import os
import shlex
from dataclasses import dataclass
from typing import Any

from . import host_look
from .facts import Facts
from .host_look import Look
from .rules import Finding, missing_processes, unreachable_targets
from .wording import cap, human_age, human_bytes, pct

PRIORITY = {"critical": "critical", "warning": "medium", "info": "low"}


@dataclass
class Part:
    """One finding turned into words: a detail for the summary, a cause, a recommendation."""

    detail: str
    cause: str
    recommendation: dict[str, Any]


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
