"""Disk space and inode usage percent per path; the worst path decides."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from apps.common.text import one_line, shown

from .base import (
    Check,
    CheckResult,
    ReadingError,
    mapping,
    number,
    optional_number,
    setting,
    worst_status,
)

DEFAULT_PATHS = ["/"]


@dataclass(kw_only=True)
class DiskCheck(Check):
    """Both space and inode usage are graded against the same thresholds.

    Readings: `paths`, an object of path (mount point) -> `percent` (space used %, graded;
    node_exporter: 100 * (1 - avail / size)), `inodes_percent` (graded too; None or missing
    when the filesystem has no inode counts), `total_bytes`, `used_bytes`, `free_bytes`; or
    `error` when the path could not be measured. The metrics add per path `status` and
    `max_percent`, and the overall `max_percent`. Every path in the readings is graded.
    """

    name = "disk"
    unit = "%"

    warning: float | None = 80.0
    critical: float | None = 90.0
    paths: list[str] = field(
        default_factory=lambda: list(setting("CHECK_DISK_PATHS", DEFAULT_PATHS))
    )

    def measure(self) -> dict[str, Any]:
        return {"paths": {path: _measure(path) for path in self.paths}}

    def assess(self, readings: Mapping[str, Any]) -> CheckResult:
        paths = mapping(readings, "paths")
        if not paths:
            return CheckResult("ok", "no paths configured", {"paths": {}})
        graded = {str(path): self._grade(reading) for path, reading in paths.items()}
        status = worst_status([m["status"] for m in graded.values()])
        summary = ", ".join(self._describe(path, m) for path, m in graded.items())
        metrics = {
            "paths": graded,
            "max_percent": max(
                (m["max_percent"] for m in graded.values() if "max_percent" in m), default=None
            ),
        }
        return CheckResult(status, f"disk {summary}", metrics)

    def _grade(self, reading: Any) -> dict[str, Any]:
        if not isinstance(reading, Mapping):
            return {
                "status": "unknown",
                "error": f"reading must be an object, got {shown(reading)}",
            }
        if reading.get("error") is not None:
            return {"status": "unknown", "error": one_line(reading["error"])}
        try:
            percent = round(number(reading, "percent"), 1)
        except ReadingError as exc:
            return {"status": "unknown", "error": str(exc)}
        inodes = optional_number(reading, "inodes_percent")
        inodes = None if inodes is None else round(inodes, 1)
        worst = max(percent, inodes or 0.0)
        rest = {k: v for k, v in reading.items() if k not in ("status", "max_percent")}
        return {
            "status": self.grade(worst),
            **rest,
            "percent": percent,
            "inodes_percent": inodes,
            "max_percent": worst,
        }

    def _describe(self, path: str, measured: dict[str, Any]) -> str:
        if "error" in measured:
            return f"{path}: {measured['error']}"
        text = f"{path} {measured['percent']:.1f}% used"
        if measured["inodes_percent"] is not None:
            text += f", inodes {measured['inodes_percent']:.1f}%"
        return text + self.limit_note(measured["status"])


def _measure(path: str) -> dict[str, Any]:
    import psutil

    try:
        usage = psutil.disk_usage(path)
        inodes = os.statvfs(path)
    except (OSError, ValueError) as exc:  # ValueError: a path with a NUL byte
        return {"error": getattr(exc, "strerror", None) or str(exc)}
    # Some filesystems (btrfs, many network ones) report no inode counts.
    inode_percent = (
        round(100 * (inodes.f_files - inodes.f_ffree) / inodes.f_files, 1)
        if inodes.f_files
        else None
    )
    return {
        "percent": round(float(usage.percent), 1),
        "total_bytes": int(usage.total),
        "used_bytes": int(usage.used),
        "free_bytes": int(usage.free),
        "inodes_percent": inode_percent,
    }
