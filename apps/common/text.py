"""Text helpers for messages that must stay on one line and bounded."""

from typing import Any


def one_line(text: Any, limit: int = 300) -> str:
    """Whitespace (newlines included) collapsed to single spaces; cut to `limit` with '...'.

    An exception becomes its message, or its class name when the message is empty."""
    if isinstance(text, BaseException):
        flat = " ".join(str(text).split()) or type(text).__name__
    else:
        flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: max(0, limit - 3)] + "..."


def shown(value: Any, limit: int = 120) -> str:
    """A user's value as it may appear in a one-line message: ordinary text as it is, control
    characters escaped, long text cut, and anything else as a bounded repr."""
    if isinstance(value, str):
        text = value if value.isprintable() else repr(value)[1:-1]
    else:
        try:
            text = repr(value)
        except ValueError:  # an int beyond Python's digit limit for printing
            return "a number too large to show"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def json_shown(value: Any, limit: int = 120) -> str:
    """shown() for a value read from JSON: null, true and false as JSON spells them (a user
    who wrote `"version": null` should not be told about Python's None)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return shown(value, limit)
