"""Dry-run and result text for run_pipeline; the command stays thin."""

import json
from collections.abc import Callable
from typing import Any

from .outcomes import not_sent, unsent_text
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
        return lines + not_sent_lines(output)
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


def not_sent_lines(output: dict) -> list[str]:
    """'Throttled: 1 (not sent: paged 2 min ago)': a page not sent never reads as sent."""
    lines = []
    for status, count, reason in not_sent(output):
        why = f"not sent: {_short(reason, 120)}" if reason else "not sent"
        lines.append(f"{status.capitalize()}: {count} ({why})")
    return lines


def _footer(result: dict, style: Style) -> list[str]:
    if result["status"] != "COMPLETED":
        return [style.ERROR(f"✗ Pipeline failed: {result.get('error')}")]
    if result.get("failed_nodes"):
        text = f"Pipeline completed with {failed_count(result['failed_nodes'])}"
        return [style.WARNING(f"⚠ {text}")]
    summary = result.get("notifications")
    unsent = unsent_text(summary)
    if unsent:
        sent = (summary or {}).get("sent", 0)
        return [
            style.WARNING(f"✓ Pipeline completed; {sent} notification(s) sent, not sent: {unsent}")
        ]
    return [style.SUCCESS("✓ Pipeline completed successfully")]


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


def result_text(result: dict, style: Style, verbosity: int = 1, fixed: bool = False) -> str:
    from .rendering_fixed import fixed_result_text

    if verbosity == 0:  # -v 0: the outcome in one line, for scripts and cron mail
        return " ".join([*_footer(result, style), f"(run {result['run_id']})"])
    render: Callable[..., str] = fixed_result_text if fixed else definition_result_text
    return render(result, style, verbosity)


def payload_host(payload: Any, source: str) -> str:
    """Whose alert this is, for the progress line: the first alert's host, or the payload's
    `server`/`host` (health-check payloads); "" when it names none."""
    if isinstance(payload, dict):
        for key in ("server", "host", "hostname"):
            if isinstance(payload.get(key), str) and payload[key].strip():
                return payload[key].strip()
    from apps.alerts import vendors

    try:
        vendor = source if source in vendors.VENDORS else vendors.detect(payload)
        alerts = vendors.parse(payload, vendor) if vendor else []
    except vendors.PayloadError:
        return ""
    return next((alert.host for alert in alerts if alert.host), "")


class ProgressLines:
    """One line when a run starts and one per node as it finishes (run_pipeline on a
    terminal's stderr; never in --json mode or when stderr is piped)."""

    def __init__(self, write: Callable[[str], Any], payload: Any, source: str):
        self.write, self.payload, self.source = write, payload, source

    def started(self, run: Any) -> None:
        host = payload_host(self.payload, self.source)
        where = f" on {host}" if host else ""
        label = run.definition_name or "the pipeline"
        self.write(f"Running {label}{where} (trace {run.trace_id})…")

    def finished(self, node: Any) -> None:
        mark = {"SUCCEEDED": "✓", "FAILED": "✗"}.get(node.status, "-")
        took = f" {node.duration_ms:.0f} ms" if node.duration_ms is not None else ""
        line = f"  {mark} {node.node_type} ({node.node_id}) {node.status}{took}"
        why = node.error or node.reason
        if node.status != "SUCCEEDED" and why:
            line += f": {_short(why, 120)}"
        elif node.node_type == "notify" and isinstance(node.output, dict):
            unsent = ", ".join(f"{count} {status}" for status, count, _ in not_sent(node.output))
            line += f" (not sent: {unsent})" if unsent else ""
        self.write(line)
