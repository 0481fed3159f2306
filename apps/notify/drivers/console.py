"""console: the message on the process's stderr (no destination to configure)."""

import sys
from typing import Any

from apps.notify.drivers.base import Message

NAME = "console"
KEYS: tuple[str, ...] = ()
REQUIRED: tuple[str, ...] = ()
DEFAULTS: dict[str, str] = {}


def validate(config: dict[str, Any]) -> list[str]:
    return []


def describe(config: dict[str, Any]) -> str:
    return "stderr"


def send(config: dict[str, Any], message: Message, *, timeout: float) -> int | None:
    sys.stderr.write(f"{message.title}\n{message.text.rstrip()}\n\n")
    sys.stderr.flush()
    return None
