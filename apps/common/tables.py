"""Aligned text tables for commands: widths from the cells, one style per row if wanted."""

from collections.abc import Callable, Sequence

Style = Callable[[str], str]


def aligned(header: Sequence[str], rows: Sequence[Sequence[str]]) -> tuple[str, list[str]]:
    """The header line and one line per row, columns padded to their widest cell."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return line(header), [line(row) for row in rows]


def age(seconds: float | None) -> str:
    """12s, 5m, 3h, 2d: how long ago, short enough for a column."""
    if seconds is None:
        return "-"
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"
