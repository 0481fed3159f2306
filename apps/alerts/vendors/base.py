"""The normalised alert every vendor parser returns, and the helpers parsers share.

Parsers are pure functions of the payload: no database, no network, no Django.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from apps.common.severity import rank
from apps.common.text import one_line

Status = Literal["firing", "resolved"]
Severity = Literal["critical", "warning", "info"]

DEFAULT_SEVERITY: Severity = "warning"
MAX_FINGERPRINT_LENGTH = 200  # Alert.fingerprint is a CharField(max_length=200)


class PayloadError(ValueError):
    """A payload a parser cannot read. The message is one line, fit to show a user."""


class TestNotification(PayloadError):
    """A vendor's test or ping (New Relic's test notification, PagerDuty's pagey.ping): well
    formed, nothing to store. The webhook answers 200 so the vendor's test shows success."""


@dataclass
class NormalizedAlert:
    """One alert as every vendor parser reports it.

    ``action`` is "" when ``status`` is the news (the alert fired or resolved). Otherwise it
    names a vendor event about an existing alert: "acknowledge" (ingestion acknowledges the
    incident), or another lower-case vendor action such as "unacknowledge", "escalate",
    "addnote". For such events ``status`` is the state the vendor reports, "firing" when it
    reports none, and fields other than ``fingerprint`` may be placeholders (Opsgenie
    Escalate carries only the alert id), so ingestion should match the stored alert by
    fingerprint and not reopen or rename it from them.
    """

    name: str
    status: Status
    severity: Severity
    started_at: datetime | None
    ended_at: datetime | None
    fingerprint: str
    fingerprint_fields: list[str]
    host: str = ""
    description: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    action: str = ""
    url: str = ""
    # The fallbacks the parser took (an alias, a default): shown by explain_alert.
    parse_notes: list[str] = field(default_factory=list)


# --- payload access -----------------------------------------------------------------------


def require_dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be a JSON object, got {type_name(value)}")
    return value


def optional_dict(value: Any, where: str) -> dict[str, Any]:
    if value is None or value == "null":
        return {}
    return require_dict(value, where)


def require_list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise PayloadError(f"{where} must be a JSON array, got {type_name(value)}")
    return value


def text(value: Any) -> str:
    """A scalar as a stripped string; None, "null" and containers become ""."""
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, bool):
        return "true" if value else ""
    result = str(value).strip()
    return "" if result in ("null", "None") else result


def require_text(value: Any, where: str) -> str:
    if isinstance(value, dict | list):
        raise PayloadError(f"{where} must be a string, got {type_name(value)}")
    result = text(value)
    if not result:
        raise PayloadError(f"{where} is missing or empty")
    return result


def first_text(*values: Any) -> str:
    for value in values:
        result = text(value)
        if result:
            return result
    return ""


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), "number" if isinstance(value, int | float) else type(value).__name__
    )


def string_labels(value: Any, where: str) -> dict[str, str]:
    """A labels map with string keys and values (numbers are kept as their text)."""
    labels = optional_dict(value, where)
    result = {}
    for key, item in labels.items():
        if isinstance(item, dict | list):
            raise PayloadError(f"{where}.{key} must be a string, got {type_name(item)}")
        result[str(key)] = "" if item is None else str(item)
    return result


def labels_from_tags(tags: Any) -> dict[str, str]:
    """'key:value' tags (a list or a comma-separated string) as labels; a bare tag maps to ""."""
    if isinstance(tags, str):
        items: Iterable[Any] = tags.split(",")
    elif isinstance(tags, list):
        items = tags
    else:
        return {}
    labels: dict[str, str] = {}
    for tag in items:
        tag_text = text(tag)
        if not tag_text:
            continue
        key, _, value = tag_text.partition(":")
        labels[key.strip()] = value.strip()
    return labels


# --- status and severity --------------------------------------------------------------------


def words(spaced: str) -> tuple[str, ...]:
    return tuple(spaced.split())


FIRING_WORDS = frozenset(
    words(
        "firing fire open opened problem alerting alert triggered trigger active raised "
        "critical warning error down"
    )
)
RESOLVED_WORDS = frozenset(
    words("resolved resolve ok closed close recovered recovery inactive cleared clear up normal")
)


def normalize_status(value: Any, where: str) -> Status:
    word = text(value).lower()
    if word in FIRING_WORDS:
        return "firing"
    if word in RESOLVED_WORDS:
        return "resolved"
    raise PayloadError(f"{where}: unknown status {one_line(repr(value), 60)}")


SEVERITY_WORDS: dict[str, Severity] = {
    **dict.fromkeys(
        words(
            "critical crit disaster high p0 p1 p2 sev0 sev1 sev2 sev-1 sev-2 1 2 page paging "
            "emergency emerg alert fatal major urgent error err severe"
        ),
        "critical",
    ),
    **dict.fromkeys(
        words("warning warn average medium moderate minor p3 sev3 sev-3 3 degraded"), "warning"
    ),
    **dict.fromkeys(
        words(
            "info information informational notice debug trace ok success none low normal "
            "p4 p5 sev4 sev5 sev-4 sev-5 4 5 not_classified"
        ),
        "info",
    ),
}


def normalize_severity(
    value: Any,
    table: Mapping[str, Severity] | None = None,
    default: Severity = DEFAULT_SEVERITY,
) -> Severity:
    """Map a vendor's severity word or number to critical/warning/info.

    ``table`` holds the vendor's own meanings (checked first); unknown words give ``default``.
    Parsers use fields.severity_noted, which also notes an unknown word.
    """
    return known_severity(value, table) or default


def known_severity(value: Any, table: Mapping[str, Severity] | None = None) -> Severity | None:
    """The severity a word or number names, or None (no value, or a word no table knows)."""
    word = text(value).lower().replace(" ", "_")
    if not word:
        return None
    # "P2 - Medium", "sev2 (major)": the whole text first, then its first word.
    for candidate in (word, _FIRST_WORD.split(word)[0]):
        if table and candidate in table:
            return table[candidate]
        if candidate in SEVERITY_WORDS:
            return SEVERITY_WORDS[candidate]
    return None


_FIRST_WORD = re.compile(r"[^a-z0-9-]+")


def lower_severity(a: Severity, b: Severity) -> Severity:
    return min(a, b, key=rank)


# --- times --------------------------------------------------------------------------------

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def parse_time(value: Any, where: str) -> datetime | None:
    """An aware UTC datetime from RFC 3339/ISO 8601 text or epoch s/ms/µs/ns (number or text).

    None, "", "null", 0 and Alertmanager's zero time (year 1) mean "no time" and give None.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(value, where)
    if not isinstance(value, str):
        raise PayloadError(f"{where}: expected a time, got {type_name(value)}")
    raw = value.strip()
    if raw.lower() in ("", "null", "none"):
        return None
    if _NUMBER.match(raw):
        return _from_epoch(float(raw) if "." in raw else int(raw), where)
    try:
        parsed = datetime.fromisoformat(raw.replace(" UTC", "").replace("z", "Z"))
    except ValueError:
        raise PayloadError(f"{where}: cannot read time {one_line(repr(value), 60)}") from None
    if parsed.year <= 1:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _from_epoch(number: float, where: str) -> datetime | None:
    if number == 0:
        return None
    size = abs(number)
    if size >= 1e17:
        seconds = number / 1e9
    elif size >= 1e14:
        seconds = number / 1e6
    elif size >= 1e11:
        seconds = number / 1e3
    else:
        seconds = number
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise PayloadError(f"{where}: epoch time {number!r} is out of range") from None


def now_utc() -> datetime:
    return datetime.now(UTC)


# --- fingerprints ---------------------------------------------------------------------------


def hash_fingerprint(*parts: Any) -> str:
    """A stable 32-hex-digit hash of JSON-able parts (dicts are hashed with sorted keys)."""
    encoded = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()[:32]


def id_fingerprint(value: Any) -> str:
    """A vendor's own id as the fingerprint, hashed only when too long to store."""
    result = text(value)
    return result if len(result) <= MAX_FINGERPRINT_LENGTH else hash_fingerprint(result)
