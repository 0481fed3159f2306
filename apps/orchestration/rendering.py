"""Dry-run and result text for run_pipeline; the command stays thin."""

import json
from collections.abc import Callable
from typing import Any

from .orchestrator import STAGE_TITLES
from .records import failed_count
from .spec import Plan

RULE = "=" * 60
Style = Any  # django.core.management.color.Style


def _ms(value: float | None) -> str:
    return f"{(value or 0):.2f}ms"


def _short(text: Any, limit: int = 100) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def dry_run_text(plan: Plan, header: str, source: str, environment: str, payload: Any) -> str:
    lines = ["=== DRY RUN ===", "", header, f"Source: {source}", f"Environment: {environment}", ""]
    lines.append(f"Nodes ({len(plan.order)}):")
    for number, node_id in enumerate(plan.order, start=1):
        node = plan.nodes[node_id]
        lines.append(f"  {number}. [{node.type}] {node.id}")
        lines.append(f"     Config: {json.dumps(node.config, ensure_ascii=False)}")
        if node.when:
            lines.append(f"     When: {node.when}")
        if not node.required:
            lines.append("     Required: no")
        if not node.enabled:
            lines.append("     Enabled: no")
        targets = node.next_ids()
        lines.append(f"     → next: {', '.join(targets)}" if targets else "     → end")
        lines.append("")
    lines += ["Payload:", json.dumps(payload, indent=2, ensure_ascii=False), ""]
    lines.append("Use without --dry-run to execute")
    return "\n".join(lines)


def previews_text(previews: list[dict]) -> str:
    """The messages notify nodes would send (from dryrun.notification_previews)."""
    if not previews:
        return ""
    lines = ["", "Notifications that would be sent:"]
    for message in previews:
        target = message.get("channel") or message.get("driver")
        lines.append(f"  [{message.get('node')}] {target} -> {message.get('destination', '')}")
        if message.get("error"):
            lines.append(f"    Error: {message['error']}")
            continue
        lines.append(f"    Title: {message.get('title', '')}")
        lines.append("    Message:")
        lines += [f"      {line}" for line in str(message.get("text", "")).splitlines()]
    return "\n".join(lines)


def _header(result: dict, label_line: str) -> list[str]:
    return [
        RULE,
        "PIPELINE RESULT",
        RULE,
        "",
        f"Status: {result.get('outcome') or result['status']}",
        label_line,
        f"Trace ID: {result['trace_id']}",
        f"Run ID: {result['run_id']}",
        f"Duration: {_ms(result['duration_ms'])}",
    ]


def _provider_line(output: dict) -> str:
    provider = output.get("provider", "")
    if output.get("fallback_used"):
        return f"Provider: {provider} (fallback from {output.get('requested_provider')})"
    return f"Provider: {provider}"


def _host_lines(output: dict) -> list[str]:
    """Whose facts these are, and from where; or why there are none."""
    if "available" not in output:
        return []
    if not output["available"]:
        return [f"Host facts: none for {output.get('host')} ({_short(output.get('reason'), 200)})"]
    return [f"Host: {output.get('host')} ({output.get('source')}, {output.get('age_s')} s old)"]


def _node_detail(node: dict) -> list[str]:
    output = node.get("output") or {}
    kind = node["type"]
    if node["status"] != "SUCCEEDED" and not output:
        return []
    if kind == "context":  # the spec's lines exactly; whose facts: --json and the analysis
        return [f"Checks run: {output.get('checks_run', 0)}"]
    if kind == "intelligence":
        return [f"Summary: {_short(output.get('summary'))}", _provider_line(output)]
    if kind == "notify":
        lines = [
            f"Driver: {output.get('driver', '')}",
            f"Channels attempted: {output.get('channels_attempted', 0)}",
            f"Succeeded: {output.get('channels_succeeded', 0)}",
        ]
        if output.get("channels_failed"):
            lines.append(f"Failed: {output['channels_failed']}")
        if output.get("channels_throttled"):
            lines.append(f"Throttled: {output['channels_throttled']}")
        return lines
    if kind == "ingest":
        return [
            f"Incident ID: {output.get('incident_id')}",
            f"Alerts created: {(output.get('alerts') or {}).get('created', 0)}",
            f"Severity: {output.get('severity')}",
        ]
    if kind == "transform":
        return [f"Keys: {', '.join(output)}"]
    return []


def _status_lines(node: dict) -> list[str]:
    if node["status"] == "FAILED":
        return ["Status: FAILED", f"Error: {node.get('error')}"]
    if node["status"] in ("SKIPPED", "NOT_RUN"):
        return [f"Status: {node['status']}", f"Reason: {node.get('reason', '')}"]
    return []


def _verbose_lines(node: dict, verbosity: int) -> list[str]:
    if verbosity < 2 or node.get("output") is None:
        return []
    dumped = json.dumps(node["output"], indent=2, ensure_ascii=False, default=str)
    return ["Output:"] + ["  " + line for line in dumped.splitlines()]


def _footer(result: dict, style: Style) -> list[str]:
    if result["status"] == "COMPLETED" and result.get("failed_nodes"):
        text = f"Pipeline completed with {failed_count(result['failed_nodes'])}"
        return [style.WARNING(f"⚠ {text}")]
    if result["status"] == "COMPLETED":
        return [style.SUCCESS("✓ Pipeline completed successfully")]
    return [style.ERROR(f"✗ Pipeline failed: {result.get('error')}")]


def definition_result_text(result: dict, style: Style, verbosity: int = 1) -> str:
    if result.get("config_path"):
        label = f"Config: {result['config_path']}"
    else:
        label = f"Definition: {result['definition']}"
    lines = _header(result, label)
    if result.get("replay_of"):
        lines.append(f"Replay of: {result['replay_of']}")
    for node in result["nodes"]:
        lines += ["", style.MIGRATE_HEADING(f"--- {node['type']} ({node['id']}) ---")]
        body = _status_lines(node) + _node_detail(node) + _verbose_lines(node, verbosity)
        body.append(f"Duration: {_ms(node['duration_ms'])}")
        lines += ["  " + line for line in body]
    return "\n".join([*lines, "", *_footer(result, style)])


def _fixed_detail(node: dict) -> list[str]:
    output = node.get("output") or {}
    if node["id"] == "check":
        summary = output.get("summary") or {}
        passed = summary.get("ok", 0)
        return [
            f"Checks run: {output.get('checks_run', 0)}",
            f"Passed: {passed}",
            f"Failed: {output.get('checks_run', 0) - passed}",
            *_host_lines(output),
        ]
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


def result_text(result: dict, style: Style, verbosity: int = 1, fixed: bool = False) -> str:
    render: Callable[..., str] = fixed_result_text if fixed else definition_result_text
    return render(result, style, verbosity)
