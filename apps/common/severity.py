"""The one order of severities and check statuses, least to most severe.

Alert severities are info/warning/critical; check results add ok and unknown (a check that could
not measure is worse than a warning: nobody knows the state); `error` is what some analyses and
vendors call critical.
"""

SEVERITIES = ("info", "warning", "critical")
ORDER = ("ok", "info", "warning", "unknown", "critical")
RANK = {name: position for position, name in enumerate(ORDER)}
ALIASES = {"error": "critical"}


def rank(severity: str, default: str = "warning") -> int:
    """Position of a severity or status in ORDER; unknown words rank as `default`."""
    name = ALIASES.get(severity, severity)
    return RANK.get(name, RANK[default])


def worst(severities: list[str] | tuple[str, ...], default: str = "ok") -> str:
    """The most severe of `severities`, or `default` when there are none."""
    return max(severities, key=rank, default=default)
