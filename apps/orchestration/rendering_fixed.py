"""Dry-run and result text of the built-in pipeline (ingest -> check -> analyze -> notify).

Its dry-run keeps the blocks of the pipeline it replaces (`Pipeline Configuration:`, `Payload:`,
`Pipeline Stages:`); its result has one section per stage.
"""

import json
from typing import Any

from .orchestrator import STAGE_TITLES
from .outcomes import CHECK_STATUSES, checks_by_status
from .rendering import (
    Style,
    _footer,
    _header,
    _host_lines,
    _ms,
    _node_detail,
    _short,
    _status_lines,
    _verbose_lines,
    not_sent_lines,
)
from .spec import Plan

STAGE_WHAT = {
    "ingest": "Parse the alert payload, create or update its Alert and Incident",
    "check": "Run the host checks (CPU, memory, disk, ...) on the alert's host",
    "analyze": "Analyse the incident with the check results",
    "notify": "Send the notification through the configured driver",
}


def fixed_dry_run_text(
    plan: Plan, source: str, environment: str, notify_driver: str, payload: Any
) -> str:
    lines = [
        "=== DRY RUN ===",
        "",
        "Pipeline Configuration:",
        f"  Source: {source}",
        f"  Environment: {environment}",
        f"  Notify Driver: {notify_driver}",
        "",
        "Payload:",
        json.dumps(payload, indent=2, ensure_ascii=False),
        "",
        "Pipeline Stages:",
    ]
    width = max(len(title) for title in STAGE_TITLES.values())
    for number, node_id in enumerate(plan.order, start=1):
        node = plan.nodes[node_id]
        title = STAGE_TITLES.get(node_id, node_id.upper())
        what = STAGE_WHAT.get(node_id, node.type)
        if node_id == "analyze":
            what += f" (provider: {node.config.get('provider', 'local')})"
        if node_id == "notify":
            what += f" ({node.config.get('driver', '')})"
        skipped = "" if node.enabled else " [skipped: --checks-only]"
        lines.append(f"  {number}. {title.ljust(width)} - {what}{skipped}")
    lines += ["", "Use without --dry-run to execute"]
    return "\n".join(lines)


def _check_lines(output: dict) -> list[str]:
    """Checks counted by status name, with the names of those that are not ok."""
    summary = output.get("summary") or {}
    names = checks_by_status(output)
    lines = [f"Checks run: {output.get('checks_run', 0)}"]
    for status in CHECK_STATUSES:
        count = summary.get(status, len(names.get(status, [])))
        shown = f" ({', '.join(names[status])})" if status != "ok" and names.get(status) else ""
        lines.append(f"{status.upper() if status == 'ok' else status.capitalize()}: {count}{shown}")
    return lines + _host_lines(output)


def _fixed_detail(node: dict) -> list[str]:
    output = node.get("output") or {}
    if node["id"] == "check":
        return _check_lines(output)
    if node["id"] == "analyze":
        lines = [
            f"Summary: {_short(output.get('summary'), 200)}",
            f"Probable cause: {_short(output.get('probable_cause'), 200)}",
            "Recommendations:",
        ]
        for rec in (output.get("recommendations") or [])[:5]:
            lines.append(f"  - [{rec.get('priority', '')}] {_short(rec.get('title'), 120)}")
        return lines
    if node["id"] == "notify":
        return [
            f"Driver: {output.get('driver', '')}",
            f"Channels attempted: {output.get('channels_attempted', 0)}",
            f"Succeeded: {output.get('channels_succeeded', 0)}",
            f"Failed: {output.get('channels_failed', 0)}",
            *not_sent_lines(output),
        ]
    return _node_detail(node)


def fixed_result_text(result: dict, style: Style, verbosity: int = 1) -> str:
    lines = _header(result, "Definition: standard (built-in)")
    for node in result["nodes"]:
        title = STAGE_TITLES.get(node["id"], node["id"].upper())
        lines += ["", style.MIGRATE_HEADING(f"--- {title} ---")]
        detail = _fixed_detail(node) if node.get("output") else []
        body = _status_lines(node) + detail + _verbose_lines(node, verbosity)
        body.append(f"Duration: {_ms(node['duration_ms'])}")
        lines += ["  " + line for line in body]
    return "\n".join([*lines, "", *_footer(result, style)])
