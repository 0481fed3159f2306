"""How numbers read in the analysis text: sizes, ages, percentages."""

from typing import Any


def human_bytes(value: float | None) -> str:
    if value is None:
        return "?"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def human_age(seconds: int) -> str:
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.1f} days ago"


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def pct(value: Any) -> str:
    return f"{float(value):.1f}%" if isinstance(value, int | float) else "?%"
