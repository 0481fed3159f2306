"""The incident kinds the rules know: their words in alert text, and the figure quoted for each."""

import re
from typing import Any

# Precedence when two findings are equally severe: what explains the others comes first
# (an unreachable host explains missing data; a reboot explains a stopped process; memory
# pressure explains swapping and load).
KIND_ORDER = (
    "network",
    "reboot",
    "process",
    "memory",
    "disk",
    "inodes",
    "swap",
    "cpu",
    "load",
    "temperature",
)
KIND_LABELS = {
    "network": "host or network unreachable",
    "reboot": "host reboot",
    "process": "process down",
    "memory": "memory pressure",
    "disk": "disk space",
    "inodes": "inode exhaustion",
    "swap": "swap use",
    "cpu": "CPU saturation",
    "load": "high load",
    "temperature": "hardware temperature",
}
_DOWN = r"(down|not running|stopped|dead|crashed|exited|missing|failed|crash ?looping)"
KIND_PATTERNS = {
    kind: re.compile(pattern)
    for kind, pattern in {
        "network": r"\b(unreachable|packet loss|no route to host|connection refused|"
        r"connection timed out|network (is )?(down|unreachable)|"
        r"(host|server|node|instance|target|machine) (is )?down)\b",
        "reboot": r"\b(reboot|rebooted|rebooting|uptime|kernel panic|unexpected restart|"
        r"(host|server|system|machine) (was )?restarted)\b",
        "process": r"\b(process|processes|service|daemon|systemd unit|container)\b.{0,40}\b"
        + _DOWN
        + r"\b"
        r"|\b(process (count|missing|not running)|crash ?looping|procstat)\b",
        "memory": r"\b(memory|mem|ram|oom|out of memory|oom ?kill(er|ed)?)\b",
        "disk": r"\b(disk|disks|storage|filesystem|filesystems|file system|no space left|"
        r"partition|disk space|volume full)\b",
        "inodes": r"\binodes?\b",
        "swap": r"\b(swap|swapping|swapped)\b",
        "cpu": r"\b(cpu|cpus|processor|cpu usage|cpu utili[sz]ation)\b",
        "load": r"\b(load ?average|load avg|load ?[0-9]{1,2}|system load|high load|"
        r"load per core)\b",
        "temperature": r"\b(temperature|thermal|overheat(ing|ed)?)\b",
    }.items()
}
CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
SEPARATORS_RE = re.compile(r"[_\-./:=,;|{}\[\]()\"']+")
PERCENT_RE = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d+)?)\s?%")
# The limit a check names after its value: "disk / 91.0% used (critical at >= 90%)".
LIMIT_NOTE_RE = re.compile(r"\((?:warning|critical) at [<>]=? ?\d+(?:\.\d+)? ?%\)")
FIGURE_RE = re.compile(r"\bfigure(\d+)x\b")


def words(text: str) -> str:
    """'high_memory_load' / 'HighMemoryLoad' -> 'high memory load' so \\b matches real words."""
    return " ".join(SEPARATORS_RE.sub(" ", CAMEL_RE.sub(" ", text)).lower().split())


def alert_text(alert: dict[str, Any]) -> str:
    parts = [alert.get("name", ""), alert.get("description", "")]
    for mapping in (alert.get("labels") or {}, alert.get("annotations") or {}):
        for key in ("alertname", "summary", "description", "message", "title", "check"):
            value = mapping.get(key)
            if isinstance(value, str):
                parts.append(value)
    return " ".join(parts)[:4000]


def _kinds(normalized: str) -> list[str]:
    found = [kind for kind, pattern in KIND_PATTERNS.items() if pattern.search(normalized)]
    if "temperature" in found and "cpu" in found:
        found.remove("cpu")  # "High CPU Temperature" is about heat, not CPU time
    return found


def kinds_in(text: str) -> list[str]:
    return _kinds(words(text))


def percents_by_kind(text: str, kinds: list[str] | None = None) -> dict[str, float]:
    """The percentage `text` quotes for each of `kinds` (default: the kinds it names).

    A figure belongs to the kind whose word is nearest to it ("disk / 23.0% used, inodes 3.1%"
    is disk 23.0 and inodes 3.1; on a tie, the word before it); of several figures of one kind
    the largest counts ("threshold of 1% with a value of 28.5%" means 28.5). Limits a check
    names after its value ("(critical at >= 90%)") are not figures.
    """
    figures: list[float] = []

    def mark(match: re.Match[str]) -> str:
        value = float(match[1])
        if value > 100:
            return " "
        figures.append(value)
        return f" figure{len(figures) - 1}x "

    normalized = words(PERCENT_RE.sub(mark, LIMIT_NOTE_RE.sub(" ", text)))
    kinds = kinds_in(text) if kinds is None else kinds
    if not figures or not kinds:
        return {}
    spans = [
        (kind, match.start(), match.end())
        for kind in kinds
        for match in KIND_PATTERNS[kind].finditer(normalized)
    ]
    found: dict[str, float] = {}
    for figure in FIGURE_RE.finditer(normalized):
        if spans:
            start, end = figure.span()
            # (distance, 0 for a word before the figure, 1 after it): nearest, then before
            kind = min(
                spans,
                key=lambda s: (s[1] - end, 1) if s[1] >= end else (max(0, start - s[2]), 0),
            )[0]
        elif len(kinds) == 1:
            kind = kinds[0]  # named by a label the text does not repeat
        else:
            continue
        value = figures[int(figure[1])]
        found[kind] = max(value, found.get(kind, value))
    return found
