"""What a run's nodes did, counted by name: pages not sent (and why), checks by status.

Shared by every result view: the CLI text, the --json/API result document and the admin.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# A page that was not sent, by the delivery status that says why (and its result counter).
NOT_SENT = (
    ("throttled", "channels_throttled"),
    ("silenced", "channels_silenced"),
    ("inhibited", "channels_inhibited"),
    ("grouped", "channels_grouped"),  # waiting for its group's one message (not sent yet)
    ("skipped", ""),
)
CHECK_STATUSES = ("ok", "warning", "critical", "unknown")


def not_sent(output: Any) -> list[tuple[str, int, str]]:
    """(status, count, first reason) of each kind of page a notify output did not send."""
    if not isinstance(output, dict):
        return []
    deliveries = [d for d in output.get("deliveries") or [] if isinstance(d, dict)]
    found = []
    for status, counter in NOT_SENT:
        of_status = [d for d in deliveries if d.get("status") == status]
        count = output.get(counter) if counter else None
        count = count if isinstance(count, int) else len(of_status)
        if count:
            reason = next((str(d["error"]) for d in of_status if d.get("error")), "")
            if not reason and status in ("silenced", "inhibited"):
                reason = str(output.get("quiet") or "")
            found.append((status, count, reason))
    return found


def notification_summary(nodes: Iterable[Any]) -> dict[str, int] | None:
    """Pages of a run's notify nodes: sent, failed and each kind not sent; None without any."""
    summary: dict[str, int] = {}
    seen = False
    for node in nodes:
        kind = node.get("type") if isinstance(node, dict) else getattr(node, "node_type", "")
        output = node.get("output") if isinstance(node, dict) else getattr(node, "output", None)
        if kind != "notify" or not isinstance(output, dict):
            continue
        seen = True
        summary["sent"] = summary.get("sent", 0) + int(output.get("channels_succeeded") or 0)
        summary["failed"] = summary.get("failed", 0) + int(output.get("channels_failed") or 0)
        for status, count, _ in not_sent(output):
            summary[status] = summary.get(status, 0) + count
    return summary if seen else None


def unsent_text(summary: dict[str, int] | None) -> str:
    """'1 throttled, 1 silenced' ('' when every page was sent or there were none)."""
    if not summary:
        return ""
    return ", ".join(f"{summary[status]} {status}" for status, _ in NOT_SENT if summary.get(status))


def checks_by_status(output: Any) -> dict[str, list[str]]:
    """Check names by status (ok, warning, critical, unknown), in the order they ran."""
    groups: dict[str, list[str]] = {status: [] for status in CHECK_STATUSES}
    checks = output.get("checks") if isinstance(output, dict) else None
    if isinstance(checks, dict):
        for name, result in checks.items():
            status = result.get("status") if isinstance(result, dict) else None
            groups.setdefault(str(status or "unknown"), []).append(str(name))
    return groups
