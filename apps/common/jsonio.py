"""Reading JSON that people hand to commands: only what every supported database can store.

Python's json module accepts NaN and Infinity (not JSON; the SQLite and PostgreSQL JSON
columns refuse them) and strings with NUL characters (PostgreSQL refuses them), and raises
RecursionError on deep nesting. Each of these is a one-line JsonInputError here instead of
a traceback later, when a row is written.
"""

import json
from pathlib import Path
from typing import Any

MAX_FILE_BYTES = 10 * 1024 * 1024


class JsonInputError(ValueError):
    """The text is not JSON this project accepts; the message is one line."""


def _no_constant(name: str) -> Any:
    raise JsonInputError(f"{name} is not a JSON value (use a number or null)")


def loads(text: str) -> Any:
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise JsonInputError("JSON is nested too deeply") from None
    except JsonInputError:
        raise
    except json.JSONDecodeError as exc:
        raise JsonInputError(str(exc)) from None
    where = nul_path(value)
    if where is not None:
        where = where if len(where) <= 80 else where[:79] + "…"
        raise JsonInputError(f"JSON string at {where} contains a NUL character (\\u0000)")
    return value


def nul_path(value: Any) -> str | None:
    """JSON-pointer-like path of the first key or string holding a NUL character, or None."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:  # iterative: the value may be nested as deep as the parser allowed
        path, item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return path or "/"
        elif isinstance(item, dict):
            if any("\x00" in key for key in item):
                return path or "/"
            # pushed in reverse so the first problem in document order is found first
            stack.extend((f"{path}/{key}", child) for key, child in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((f"{path}/{i}", child) for i, child in reversed(list(enumerate(item))))
    return None


def read_file(path_text: str, what: str = "File") -> Any:
    """Parse a JSON file; JsonInputError with a one-line reason naming the file otherwise."""
    if not path_text:
        raise JsonInputError(f"{what} path is empty")
    path = Path(path_text)
    if path.is_dir():
        raise JsonInputError(f"{what} is a directory, not a file: {path_text}")
    if not path.is_file():
        raise JsonInputError(f"{what} not found: {path_text}")
    if path.stat().st_size > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // (1024 * 1024)
        raise JsonInputError(f"{what} is too large (over {limit} MiB): {path_text}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise JsonInputError(f"Cannot read {what.lower()}: {path_text}: {exc}") from None
    try:
        return loads(text)
    except JsonInputError as exc:
        raise JsonInputError(f"Invalid JSON in {what.lower()}: {exc}") from None
