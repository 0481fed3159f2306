"""Reading JSON that people hand to commands: only what every supported database can store.

Python's json module accepts NaN and Infinity (not JSON; the SQLite and PostgreSQL JSON
columns refuse them) and strings with NUL characters (PostgreSQL refuses them), and raises
RecursionError on deep nesting. Each of these is a one-line JsonInputError here instead of
a traceback later, when a row is written.
"""

import json
import math
from pathlib import Path
from typing import Any

MAX_FILE_BYTES = 10 * 1024 * 1024


class JsonInputError(ValueError):
    """The text is not JSON this project accepts; the message is one line."""


def _no_constant(name: str) -> Any:
    raise JsonInputError(f"{name} is not a JSON value (use a number or null)")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e999: JSON syntax, but no database column can store it
        raise JsonInputError(f"the number {text[:40]} is too large")
    return value


def loads(text: str) -> Any:
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except RecursionError:
        raise JsonInputError("JSON is nested too deeply") from None
    except JsonInputError:
        raise
    except json.JSONDecodeError as exc:
        raise JsonInputError(str(exc)) from None
    except ValueError as exc:  # an integer beyond Python's 4300-digit limit
        raise JsonInputError(f"a number is too large ({str(exc).split(';')[0]})") from None
    if not may_hold_bad_text(text):
        return value
    where, what = bad_text_path(value)
    if where is not None:
        where = where if len(where) <= 80 else where[:79] + "…"
        raise JsonInputError(f"JSON string at {where} contains {what}")
    return value


NUL = "a NUL character (\\u0000)"
SURROGATE = "a lone surrogate (\\ud800-\\udfff), which is not Unicode text"


def may_hold_bad_text(text: str) -> bool:
    """Whether parsed strings could hold a NUL or a lone surrogate: only through a \\u escape
    (JSON has no raw control characters) or a lone surrogate already in the text (a command
    line decoded with surrogateescape). One pass in C instead of a walk of every string."""
    if "\\u" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def text_problem(text: str) -> str:
    """What in a string no database can store, or ""."""
    if "\x00" in text:
        return NUL
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE
    return ""


def nul_path(value: Any) -> str | None:
    """JSON-pointer-like path of the first key or string holding a NUL character, or None."""
    where, what = bad_text_path(value)
    return where if what == NUL else None


def bad_text_path(value: Any) -> tuple[str | None, str]:
    """(JSON-pointer-like path, what) of the first key or string holding a NUL character or a
    lone surrogate, or (None, "")."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:  # iterative: the value may be nested as deep as the parser allowed
        path, item = stack.pop()
        if isinstance(item, str):
            if problem := text_problem(item):
                return path or "/", problem
        elif isinstance(item, dict):
            for key in item:
                if problem := text_problem(key):
                    return path or "/", problem
            # pushed in reverse so the first problem in document order is found first
            stack.extend((f"{path}/{key}", child) for key, child in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((f"{path}/{i}", child) for i, child in reversed(list(enumerate(item))))
    return None, ""


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
        text = path.read_text(encoding="utf-8-sig")  # a leading byte order mark is ignored
    except (OSError, UnicodeDecodeError) as exc:
        raise JsonInputError(f"Cannot read {what.lower()}: {path_text}: {exc}") from None
    try:
        return loads(text)
    except JsonInputError as exc:
        raise JsonInputError(f"Invalid JSON in {what.lower()}: {exc}") from None
