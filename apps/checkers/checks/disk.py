"""Disk space and inode usage percent per path; the worst path decides."""

import os
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from .base import Check, CheckResult, worst_status


@dataclass(kw_only=True)
class DiskCheck(Check):
    """Both space and inode usage are graded against the same thresholds."""

    name = "disk"
    unit = "%"

    warning: float | None = 80.0
    critical: float | None = 90.0
    paths: list[str] = field(default_factory=lambda: list(settings.CHECK_DISK_PATHS))

    def collect(self) -> CheckResult:
        if not self.paths:
            return CheckResult("ok", "no paths configured", {"paths": {}})
        measured = {path: self._measure(path) for path in self.paths}
        status = worst_status([m["status"] for m in measured.values()])
        summary = ", ".join(self._describe(path, m) for path, m in measured.items())
        metrics = {
            "paths": measured,
            "max_percent": max(
                (m["max_percent"] for m in measured.values() if "max_percent" in m), default=None
            ),
        }
        return CheckResult(status, f"disk {summary}", metrics)

    def _measure(self, path: str) -> dict[str, Any]:
        import psutil

        try:
            usage = psutil.disk_usage(path)
            inodes = os.statvfs(path)
        except (OSError, ValueError) as exc:  # ValueError: a path with a NUL byte
            return {"status": "unknown", "error": getattr(exc, "strerror", None) or str(exc)}
        # Some filesystems (btrfs, many network ones) report no inode counts.
        inode_percent = (
            round(100 * (inodes.f_files - inodes.f_ffree) / inodes.f_files, 1)
            if inodes.f_files
            else None
        )
        percent = round(float(usage.percent), 1)
        worst = max(percent, inode_percent or 0.0)
        return {
            "status": self.grade(worst),
            "percent": percent,
            "total_bytes": int(usage.total),
            "used_bytes": int(usage.used),
            "free_bytes": int(usage.free),
            "inodes_percent": inode_percent,
            "max_percent": worst,
        }

    def _describe(self, path: str, measured: dict[str, Any]) -> str:
        if "error" in measured:
            return f"{path}: {measured['error']}"
        text = f"{path} {measured['percent']:.1f}% used"
        if measured["inodes_percent"] is not None:
            text += f", inodes {measured['inodes_percent']:.1f}%"
        return text + self.limit_note(measured["status"])
