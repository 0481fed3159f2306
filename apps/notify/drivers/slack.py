"""slack: an incoming webhook; `text` for notifications plus Block Kit `blocks`."""

import json
from typing import Any

from apps.notify.drivers.base import USER_AGENT, Message, send_http, shown_url, url_problem

NAME = "slack"
KEYS = ("webhook_url",)
REQUIRED = ("webhook_url",)
DEFAULTS = {"webhook_url": "SLACK_WEBHOOK_URL"}
SECTION_MAX = 2900  # Slack's limit for a section's text is 3000 characters
SEVERITY_ICONS = {
    "critical": ":red_circle:",
    "warning": ":large_orange_circle:",
    "info": ":blue_circle:",
}


def validate(config: dict[str, Any]) -> list[str]:
    problem = url_problem("webhook_url", config["webhook_url"]) if "webhook_url" in config else None
    return [problem] if problem else []


def describe(config: dict[str, Any]) -> str:
    return shown_url(config["webhook_url"])


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fields(message: Message) -> list[dict[str, str]]:
    icon = (
        ":white_check_mark:"
        if message.kind == "resolve"
        else SEVERITY_ICONS.get(message.severity, "")
    )
    pairs = [
        ("Severity", f"{icon} {message.severity}".strip()),
        ("Status", message.status or "-"),
        ("Host", message.host or "-"),
        ("Started", message.started_at or "-"),
    ]
    return [{"type": "mrkdwn", "text": f"*{label}*\n{value}"} for label, value in pairs]


def blocks(message: Message) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(message.title, 150)}},
        {"type": "section", "fields": _fields(message)},
    ]
    if message.custom_text:
        body = message.text
    else:
        body = message.summary or message.description or "No analysis available."
        if message.probable_cause:
            body += f"\n*Probable cause:* {message.probable_cause}"
    result.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(body, SECTION_MAX)}})
    top = message.recommendations[:3]
    if top and not message.custom_text:
        lines = [f"• *{rec.get('title', '')}*: {rec.get('detail', '')}".rstrip(": ") for rec in top]
        text = "*Recommendations*\n" + "\n".join(lines)
        result.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, SECTION_MAX)}}
        )
    context = [f"trace `{message.trace_id or '-'}`"]
    if message.run_id:
        context.append(f"run {message.run_id}")
    if message.link:
        context.append(f"<{message.link}|open incident>")
    result.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]}
    )
    return result


def body(message: Message) -> dict[str, Any]:
    return {
        "text": _cut(f"{message.title}\n{message.text}".strip(), 3000),
        "blocks": blocks(message),
    }


def send(config: dict[str, Any], message: Message, *, timeout: float) -> int | None:
    raw = json.dumps(body(message), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    return send_http(
        config["webhook_url"],
        shown_as=describe(config),
        timeout=timeout,
        content=raw,
        headers=headers,
    )
