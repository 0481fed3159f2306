"""Group keys: which alerts belong to the same incident (settings.INCIDENT_GROUP_BY)."""

import hashlib
from typing import Any

from django.conf import settings

# Fields of a NormalizedAlert (or Alert row) a group key may use; "labels.<key>" picks a label.
GROUP_FIELDS = ("name", "host", "source", "severity", "fingerprint")
KEY_MAX_LENGTH = 200


class GroupingError(ValueError):
    """INCIDENT_GROUP_BY names a field that does not exist."""


def group_fields() -> list[str]:
    fields = list(getattr(settings, "INCIDENT_GROUP_BY", None) or ["name", "host"])
    for field in fields:
        if field not in GROUP_FIELDS and not (field.startswith("labels.") and len(field) > 7):
            raise GroupingError(
                f"INCIDENT_GROUP_BY has unknown field {field!r}; use "
                f"{', '.join(GROUP_FIELDS)} or labels.<name>"
            )
    return fields


def field_value(alert: Any, field: str, source: str) -> str:
    if field == "source":
        return source
    if field.startswith("labels."):
        return str((getattr(alert, "labels", None) or {}).get(field[7:], ""))
    return str(getattr(alert, field, "") or "")


def group_key(alert: Any, source: str, fields: list[str]) -> str:
    """A readable key such as 'name=HighCPU|host=web-01'; long keys end in a hash."""
    key = "|".join(f"{field}={field_value(alert, field, source)}" for field in fields)
    return shorten(key)


def shorten(value: str, limit: int = KEY_MAX_LENGTH) -> str:
    if len(value) <= limit:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:40]
    return f"{value[: limit - 42]}#{digest}"
