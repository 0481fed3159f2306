"""ntfy: the text POSTed to a topic URL with Title, Priority and Tags headers."""

from typing import Any

from apps.notify.drivers.base import (
    USER_AGENT,
    Message,
    header_value,
    send_http,
    shown_url,
    url_problem,
)

NAME = "ntfy"
KEYS = ("url", "priority")
REQUIRED = ("url",)
DEFAULTS = {"url": "NTFY_URL"}
PRIORITY_NAMES = {"min": 1, "low": 2, "default": 3, "high": 4, "max": 5, "urgent": 5}
SEVERITY_PRIORITY = {"critical": 5, "warning": 4, "info": 3}


def validate(config: dict[str, Any]) -> list[str]:
    problems = []
    if "url" in config and (problem := url_problem("url", config["url"])):
        problems.append(problem)
    if "priority" in config:
        priority = config["priority"]
        valid_int = (
            isinstance(priority, int) and not isinstance(priority, bool) and 1 <= priority <= 5
        )
        if not valid_int and priority not in PRIORITY_NAMES:
            problems.append(
                f"'priority' must be 1-5 or one of {', '.join(PRIORITY_NAMES)}, got {priority!r}"
            )
    return problems


def describe(config: dict[str, Any]) -> str:
    return shown_url(config["url"])  # the topic name is the secret


def headers(config: dict[str, Any], message: Message) -> dict[str, str]:
    priority = config.get("priority")
    if priority is None:
        priority = 3 if message.kind == "resolve" else SEVERITY_PRIORITY.get(message.severity, 3)
    number = PRIORITY_NAMES.get(priority, priority) if isinstance(priority, str) else priority
    if message.kind == "resolve":
        tags = ["white_check_mark", "resolved"]
    else:
        tags = ["rotating_light" if message.severity == "critical" else "warning", message.severity]
    result = {
        "Content-Type": "text/plain; charset=utf-8",
        "User-Agent": USER_AGENT,
        "Title": header_value(message.title),
        "Priority": str(number),
        "Tags": header_value(",".join(tags)),
    }
    if message.link:
        result["Click"] = message.link
    return result


def send(config: dict[str, Any], message: Message, *, timeout: float) -> int | None:
    return send_http(
        config["url"],
        shown_as=describe(config),
        timeout=timeout,
        content=message.text.encode(),
        headers=headers(config, message),
    )
