"""Validation of notify configs: a node's config and a channel's driver config.

Nothing here sends or stores anything; the model, the admin, the engine and the commands all
check configs through these functions.
"""

from typing import Any

from apps.common import templating
from apps.notify.drivers import DRIVERS, load_driver
from apps.notify.messages import CONTEXT_KEYS
from apps.notify.models import NotificationChannel
from apps.notify.sealing import masked_secrets, readable

TEMPLATE_KEYS = ("title", "message")
# Node-level grouping keys (apps.notify.grouping); never part of a driver's config.
GROUP_KEYS = ("group_wait", "group_interval", "repeat_interval", "group_by")


class NotifyConfigError(ValueError):
    """The node config is not a notify config at all (validation was skipped)."""


def known_drivers() -> str:
    return ", ".join(sorted(DRIVERS))


def template_problems(key: str, source: Any) -> list[str]:
    if not isinstance(source, str):
        return [f"'{key}' must be a template string, got {type(source).__name__}"]
    from jinja2 import TemplateSyntaxError, meta

    try:
        parsed = templating.environment().parse(source)
    except TemplateSyntaxError as exc:
        return [f"'{key}' template syntax error: {exc.message} (line {exc.lineno})"]
    unknown = sorted(meta.find_undeclared_variables(parsed) - set(CONTEXT_KEYS) - {"message"})
    if unknown:
        available = ", ".join(("message", *CONTEXT_KEYS))
        return [
            f"'{key}' template uses unknown variable(s) {', '.join(unknown)} "
            f"(available: {available})"
        ]
    return []


def channel_problems(driver: Any, config: Any) -> list[str]:
    """Problems of a driver config (a channel's config or an inline node config)."""
    if not isinstance(driver, str) or driver not in DRIVERS:
        return [f"unknown notify driver {driver!r} (known: {known_drivers()})"]
    if not isinstance(config, dict):
        return [f"the {driver} config must be an object, got {type(config).__name__}"]
    config, unreadable = readable(config)
    if unreadable:
        return [unreadable]
    if masked := masked_secrets(config):
        return [
            f"{', '.join(map(repr, masked))}: *** stands for a stored secret and none is stored "
            "here; give the value or an env: reference"
        ]
    module = load_driver(driver)
    allowed = (*module.KEYS, *TEMPLATE_KEYS)
    problems = [
        f"unknown key {key!r} for driver {driver!r} (allowed: {', '.join(sorted(allowed))})"
        for key in config
        if key not in allowed
    ]
    problems += module.validate(config)
    for key in TEMPLATE_KEYS:
        if key in config:
            problems += template_problems(key, config[key])
    return problems


def channel_names(config: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The channel names a config gives ('channel' and 'channels') and the problems with them."""
    names: list[str] = []
    problems = []
    if "channel" in config:
        if isinstance(config["channel"], str) and config["channel"].strip():
            names.append(config["channel"])
        else:
            problems.append("'channel' must be a non-empty channel name")
    if "channels" in config:
        value = config["channels"]
        if not isinstance(value, list) or not value:
            problems.append("'channels' must be a non-empty list of channel names")
        elif not all(isinstance(item, str) and item.strip() for item in value):
            problems.append("'channels' must hold channel names (non-empty strings)")
        else:
            names += value
    return names, problems


def validate_notify_config(config: dict) -> list[str]:
    if not isinstance(config, dict):
        return [f"notify config must be an object, got {type(config).__name__}"]
    from apps.notify.grouping import grouping_problems

    grouping = grouping_problems(config)
    config = {key: value for key, value in config.items() if key not in GROUP_KEYS}
    return grouping + _target_problems(config)


def _target_problems(config: dict) -> list[str]:
    has_channels = "channel" in config or "channels" in config
    if "driver" in config and has_channels:
        return ["give either 'driver' (with inline settings) or 'channel'/'channels', not both"]
    if "driver" in config:
        inline = {key: value for key, value in config.items() if key != "driver"}
        return channel_problems(config["driver"], inline)
    if not has_channels:
        return ["notify config needs 'driver', 'channel' or 'channels'"]
    names, problems = channel_names(config)
    allowed = {"channel", "channels", *TEMPLATE_KEYS}
    problems += [
        f"unknown key {key!r} (allowed with channels: {', '.join(sorted(allowed))})"
        for key in config
        if key not in allowed
    ]
    for key in TEMPLATE_KEYS:
        if key in config:
            problems += template_problems(key, config[key])
    existing = set(
        NotificationChannel.objects.filter(name__in=names).values_list("name", flat=True)
    )
    problems += [
        f"notification channel {name!r} does not exist" for name in names if name not in existing
    ]
    return problems
