"""Findings: the incident kinds the alerts name and the non-ok host checks show, with numbers."""

from dataclasses import dataclass, field
from typing import Any

from apps.common.severity import SEVERITIES, rank

from .facts import Facts
from .kinds import KIND_ORDER, alert_text, kinds_in, percents_by_kind

# Alerts made from this project's own checks (check_and_alert); labels carry the check name.
CHECKS_SOURCE = "checks"
# The kinds each of this project's checks reports on.
CHECK_KINDS = {
    "cpu": ("cpu",),
    "memory": ("memory",),
    "swap": ("swap",),
    "load": ("load",),
    "disk": ("disk", "inodes"),
    "process": ("process",),
    "network": ("network",),
    "uptime": ("reboot",),
}
PERCENT_CHECKS = ("cpu", "memory", "swap")  # checks whose metrics carry their figure as percent
# A kind an alert quotes below this, beside another kind it names without a figure or at a
# higher one, is mentioned in passing ("disk / 23.0% used, inodes 3.1%" is about disk).
SIDE_FIGURE_BELOW = 50.0


@dataclass
class Finding:
    kind: str
    severity: str = "info"  # critical | warning | info
    alerts: list[dict[str, Any]] = field(default_factory=list)
    check: dict[str, Any] | None = None  # the non-ok check result behind it, if any
    alert_percent: float | None = None  # the percentage the alerts give for this kind
    data: dict[str, Any] = field(default_factory=dict)  # numbers the rule pulled out

    def raise_to(self, severity: str) -> None:
        if rank(severity, default="ok") > rank(self.severity):
            self.severity = severity


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _check_name(alert: dict[str, Any]) -> str:
    for mapping in (alert.get("labels") or {}, alert.get("annotations") or {}):
        value = mapping.get("check")
        if isinstance(value, str) and value:
            return value
    return ""


def _without_side_figures(kinds: list[str], figures: dict[str, float]) -> dict[str, float | None]:
    """kind -> figure of the kinds an alert is about (see SIDE_FIGURE_BELOW)."""
    kept: dict[str, float | None] = {}
    for kind in kinds:
        figure = figures.get(kind)
        aside = (
            figure is not None
            and figure < SIDE_FIGURE_BELOW
            and any(
                other != kind and (figures.get(other) is None or figures[other] > figure)
                for other in kinds
            )
        )
        if not aside:
            kept[kind] = figure
    return kept


def alert_figures(alert: dict[str, Any], facts: Facts) -> dict[str, float | None]:
    """The kinds an alert is about, each with the percentage it gives for that kind (or None).

    An alert from this project's own checks takes its figures from the check's metrics when the
    context has them, and its kinds from the check; any other alert is read from its text, each
    figure for its own kind.
    """
    text = alert_text(alert)
    check = _check_name(alert) if alert.get("source") == CHECKS_SOURCE else ""
    if check and (alert.get("labels") or {}).get("check_status") == "unknown":
        return {}  # the check could not measure: that says nothing about the resource
    if check in CHECK_KINDS:
        measured = facts.checks.get(check)
        measured_figures = check_figures(check, measured["metrics"]) if measured else {}
        if measured_figures:
            return dict(measured_figures)
        kinds = [k for k in kinds_in(text) if k in CHECK_KINDS[check]] or [CHECK_KINDS[check][0]]
    else:
        kinds = kinds_in(text)
    return _without_side_figures(kinds, percents_by_kind(text, kinds))


def from_alerts(facts: Facts, findings: dict[str, Finding]) -> None:
    for alert in facts.firing_alerts:
        severity = alert.get("severity", "")
        for kind, figure in alert_figures(alert, facts).items():
            finding = findings.setdefault(kind, Finding(kind))
            finding.alerts.append(alert)
            finding.raise_to(severity if severity in SEVERITIES else "warning")
            if figure is not None:
                finding.alert_percent = max(figure, finding.alert_percent or 0.0)


def check_figures(name: str, metrics: dict[str, Any]) -> dict[str, float]:
    """The kinds a check's alert is about with the figure its metrics give for each; {} when
    the metrics give no percentage (load, process, network and uptime never do)."""
    if name == "disk":
        return _disk_figures(disk_paths(metrics))
    percent = _number(metrics.get("percent")) if name in PERCENT_CHECKS else None
    return {} if percent is None else {CHECK_KINDS[name][0]: percent}


def _disk_figures(mounts: list[dict[str, Any]]) -> dict[str, float]:
    """Space or inodes of each mount the check flagged (of its worst one when it flags none):
    the disk check grades a mount on the larger of the two."""
    flagged = [m for m in mounts if m["status"] in ("warning", "critical")]
    if not flagged and mounts:
        flagged = [max(mounts, key=lambda m: max(m["percent"] or 0, m["inodes_percent"] or 0))]
    figures: dict[str, float] = {}
    for mount in flagged:
        space, inodes = mount["percent"], mount["inodes_percent"]
        kind, value = ("inodes", inodes) if (inodes or 0) > (space or 0) else ("disk", space)
        if value is not None:
            figures[kind] = max(value, figures.get(kind, value))
    return figures


def disk_paths(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Mounts from a disk check's metrics, whatever shape they come in, fullest first."""
    raw: Any = metrics.get("paths") or metrics.get("mounts") or metrics.get("filesystems")
    items: list[tuple[str, Any]] = []
    if isinstance(raw, dict):
        items = [(str(path), info) for path, info in raw.items()]
    elif isinstance(raw, list):
        items = [
            (str(info.get("path") or info.get("mountpoint") or "?"), info)
            for info in raw
            if isinstance(info, dict)
        ]
    elif _number(metrics.get("percent")) is not None:
        items = [(str(metrics.get("path") or "/"), metrics)]
    paths = []
    for path, info in items:
        if not isinstance(info, dict):
            continue
        paths.append(
            {
                "path": path,
                "percent": _number(info.get("percent")),
                "free_bytes": _number(info.get("free_bytes")),
                "inodes_percent": _number(info.get("inodes_percent")),
                "status": str(info.get("status") or ""),
            }
        )
    paths.sort(key=lambda p: p["percent"] if p["percent"] is not None else -1, reverse=True)
    return paths


def _check_problem(check: dict[str, Any]) -> str | None:
    status = check.get("status")
    return status if status in ("warning", "critical") else None


INODES_WARNING = 90.0
INODES_CRITICAL = 97.0
RECENT_BOOT_MIN = 60.0


def _inode_severity(mount: dict[str, Any]) -> str | None:
    inodes = mount["inodes_percent"]
    if inodes is None:
        return None
    flagged = mount["status"] if mount["status"] in ("warning", "critical") else None
    if flagged and inodes > (mount["percent"] or 0):
        return flagged  # the check graded this mount on its inodes
    if inodes >= INODES_CRITICAL:
        return "critical"
    return "warning" if inodes >= INODES_WARNING else None


def _disk_findings(check: dict[str, Any], findings: dict[str, Finding]) -> None:
    """Split a disk check into space and inode findings, each on its worst mount."""
    check_status = _check_problem(check)
    paths = disk_paths(check["metrics"])
    has_path_status = any(p["status"] for p in paths)
    for mount in paths:
        inode_status = _inode_severity(mount)
        if inode_status:
            _worst_mount(findings, "inodes", check, mount, inode_status, "inodes_percent")
        if has_path_status:
            space_status = mount["status"] if mount["status"] in ("warning", "critical") else None
            if space_status and inode_status and mount["inodes_percent"] > (mount["percent"] or 0):
                space_status = None  # flagged for its inodes, not its space
        else:  # a check that grades only as a whole: blame its fullest mount
            space_status = check_status if mount is paths[0] and not inode_status else None
        if space_status:
            _worst_mount(findings, "disk", check, mount, space_status, "percent")


def _worst_mount(
    findings: dict[str, Finding],
    kind: str,
    check: dict[str, Any],
    mount: dict[str, Any],
    status: str,
    key: str,
) -> None:
    finding = findings.setdefault(kind, Finding(kind))
    finding.check = check
    current = finding.data.get("mount")
    if current is None or (mount[key] or 0) > (current[key] or 0):
        finding.data["mount"] = mount
    finding.raise_to(status)


def _names(items: Any, *keys: str) -> list[str]:
    names = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            item = next((item[k] for k in keys if item.get(k)), None)
        if isinstance(item, str | int) and str(item).strip():
            names.append(str(item).strip()[:100])
    return names


def missing_processes(metrics: dict[str, Any]) -> list[str]:
    """Names from `missing: [...]`, or from `processes: {name: count}` with count 0."""
    missing = _names(metrics.get("missing"), "name", "process")
    counts = metrics.get("processes")
    if not missing and isinstance(counts, dict):
        missing = [str(name)[:100] for name, count in counts.items() if count == 0]
    return missing


def unreachable_targets(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """(target, error) from `unreachable: [...]`, or from `targets: {t: {reachable, error}}`."""
    found = [(name, "") for name in _names(metrics.get("unreachable"), "target", "host", "name")]
    targets = metrics.get("targets")
    if not found and isinstance(targets, dict):
        found = [
            (str(target)[:100], str(probe.get("error") or "")[:100])
            for target, probe in targets.items()
            if isinstance(probe, dict) and probe.get("reachable") is False
        ]
    return found


def from_checks(facts: Facts, findings: dict[str, Finding]) -> None:
    for name, check in facts.checks.items():
        metrics = check["metrics"]
        status = _check_problem(check)
        if name == "disk":
            _disk_findings(check, findings)
            continue
        if name == "uptime":
            minutes = _number(metrics.get("uptime_min", metrics.get("uptime_minutes")))
            if status or (minutes is not None and minutes < RECENT_BOOT_MIN):
                finding = findings.setdefault("reboot", Finding("reboot"))
                finding.check, finding.data["uptime_min"] = check, minutes
                finding.raise_to(status or "warning")
            continue
        if name in ("cpu", "memory", "swap", "load", "process", "network") and status:
            finding = findings.setdefault(name, Finding(name))
            finding.check = check
            finding.raise_to(status)
        # Missing processes and unreachable targets count even below the check's threshold.
        if name == "process" and missing_processes(metrics) and "process" not in findings:
            findings["process"] = Finding("process", "warning", check=check)
        if name == "network" and unreachable_targets(metrics) and "network" not in findings:
            findings["network"] = Finding("network", "warning", check=check)


def detect(facts: Facts) -> list[Finding]:
    """Findings, most important first."""
    findings: dict[str, Finding] = {}
    from_alerts(facts, findings)
    from_checks(facts, findings)
    return sorted(
        findings.values(),
        key=lambda f: (-rank(f.severity), KIND_ORDER.index(f.kind)),
    )
