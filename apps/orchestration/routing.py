"""Routing: which PipelineDefinition an alert starts, from each definition's `match`.

`match` is a JSON object whose given conditions must all hold:
    {"source": "grafana" | ["grafana", "alertmanager"],
     "severity": ["critical", "warning"],
     "labels": {"team": "db"},              # exact label values
     "labels_regex": {"instance": "^web-"},  # re.search on the label value
     "host": "web-07" | ["web-07", "web-08"]}  # the resolved host (apps.alerts.hosts)
Active definitions with a non-empty match are tried by priority (lowest first), then name.
No match means the default definition (settings.WEBHOOK_DEFAULT_DEFINITION, the shipped
`alert-triage`) when it is stored and active, else None: the built-in standard pipeline runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from apps.common.plain_select import instance_from_row

from .models import PipelineDefinition

MATCH_KEYS = ("source", "severity", "labels", "labels_regex", "host")


@dataclass
class Route:
    definition: PipelineDefinition | None
    reason: str
    is_default: bool = False

    @property
    def name(self) -> str:
        if self.definition is None:
            return "standard (built-in)"
        return f"{self.definition.name} (default)" if self.is_default else self.definition.name


def match_problems(match: Any) -> list[str]:
    """What is wrong with a `match` object, one sentence each; [] when it is usable."""
    if not isinstance(match, dict):
        return [f"match must be a JSON object, got {type(match).__name__}"]
    problems = [f"unknown match key {key!r}" for key in match if key not in MATCH_KEYS]
    for key in ("source", "severity", "host"):
        value = match.get(key)
        if value is not None and not is_text_or_texts(value):
            problems.append(f"match.{key} must be a string or a list of strings")
    for key in ("labels", "labels_regex"):
        value = match.get(key)
        if value is not None and not (
            isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
        ):
            problems.append(f"match.{key} must be an object of strings")
    for label, pattern in (match.get("labels_regex") or {}).items():
        try:
            re.compile(str(pattern))
        except re.error as exc:
            problems.append(f"match.labels_regex.{label} is not a valid regex: {exc}")
    return problems


def is_text_or_texts(value: Any) -> bool:
    return isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(item, str) for item in value)
    )


def as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def mismatch(match: dict, source: str, severity: str, labels: dict, host: str = "") -> str:
    """The first condition of `match` that does not hold, or "" when all hold."""
    if match.get("host") is not None and host not in as_list(match["host"]):
        return f"host {host!r} is not in {as_list(match['host'])!r}"
    if match.get("source") is not None and source not in as_list(match["source"]):
        return f"source {source!r} is not {match['source']!r}"
    if match.get("severity") is not None and severity not in as_list(match["severity"]):
        return f"severity {severity!r} is not in {as_list(match['severity'])!r}"
    for label, wanted in (match.get("labels") or {}).items():
        if str(labels.get(label, "")) != wanted or label not in labels:
            return f"label {label}={labels.get(label)!r} is not {wanted!r}"
    for label, pattern in (match.get("labels_regex") or {}).items():
        if label not in labels or not re.search(pattern, str(labels[label])):
            return f"label {label}={labels.get(label)!r} does not match /{pattern}/"
    return ""


def routable_definitions() -> list[PipelineDefinition]:
    """Active definitions with a non-empty match, in routing order."""
    return in_routing_order(PipelineDefinition.objects.filter(is_active=True, match__isnull=False))


def in_routing_order(rows: Any) -> list[PipelineDefinition]:
    """The definitions with a non-empty match, lowest priority number first, then by name."""
    return sorted((d for d in rows if d.match), key=lambda d: (d.priority, d.name))


def default_definition() -> PipelineDefinition | None:
    """The definition an alert that matches nothing runs (None: the built-in pipeline).

    Without it, a webhook alert would run the built-in pipeline, whose only notification is the
    console: a real alert would reach nobody."""
    from django.conf import settings

    name = getattr(settings, "WEBHOOK_DEFAULT_DEFINITION", "")
    if not name:
        return None
    return PipelineDefinition.objects.filter(name=name, is_active=True).first()


# What routing reads of a definition; the config is deferred (services.orchestrator_for keeps
# each version's orchestrator, so a webhook does not load and seal it again).
ROUTE_COLUMNS = ("id", "name", "version", "is_active", "match", "priority", "updated_at")
_ROUTES_SQL: dict[str, str] = {}


def routes_sql(connection: Any) -> str:
    sql = _ROUTES_SQL.get(connection.vendor)
    if sql is None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(column) for column in ROUTE_COLUMNS)
        table = quote(PipelineDefinition._meta.db_table)
        # Names from the model's metadata, quoted by the backend; the default's name is a param.
        sql = (
            f"SELECT {columns} FROM {table} WHERE {quote('is_active')} "  # noqa: S608
            f"AND ({quote('match')} IS NOT NULL OR {quote('name')} = %s)"
        )
        _ROUTES_SQL[connection.vendor] = sql
    return sql


def routes() -> tuple[list[PipelineDefinition], PipelineDefinition | None]:
    """routable_definitions() and default_definition() in one query (a webhook reads both): one
    fixed statement, read by a plain cursor (the ORM compiled a query for every webhook, and a
    raw queryset cost as much again in its own set-up when no definition is stored)."""
    from django.conf import settings
    from django.db import connections, router

    name = getattr(settings, "WEBHOOK_DEFAULT_DEFINITION", "") or ""
    connection = connections[router.db_for_read(PipelineDefinition)]
    with connection.cursor() as cursor:
        cursor.execute(routes_sql(connection), [name])
        found = cursor.fetchall()
    rows = [instance_from_row(connection, PipelineDefinition, ROUTE_COLUMNS, row) for row in found]
    routable = in_routing_order(rows)
    fallback = next((d for d in rows if name and d.name == name), None)
    return routable, fallback


_LOOK_UP = object()


def choose(
    source: str,
    severity: str,
    labels: dict,
    definitions: list[PipelineDefinition] | None = None,
    host: str = "",
    fallback: Any = _LOOK_UP,
) -> Route:
    """The route of one alert; pass `definitions` and `fallback` (default_definition()) to route
    many alerts with two queries."""
    candidates = routable_definitions() if definitions is None else definitions
    for definition in candidates:
        if match_problems(definition.match):
            continue
        if not mismatch(definition.match, source, severity, labels, host):
            return Route(definition, f"matched {definition.name} (priority {definition.priority})")
    default = default_definition() if fallback is _LOOK_UP else fallback
    if default is not None:
        reason = f"no definition matched: the default {default.name} (WEBHOOK_DEFAULT_DEFINITION)"
        return Route(default, reason, is_default=True)
    return Route(None, "no definition matched")


def explain(
    source: str,
    severity: str,
    labels: dict,
    definitions: list[PipelineDefinition],
    host: str = "",
) -> list[tuple[PipelineDefinition, str]]:
    """Each definition with why it did not match ("" for a match), in routing order."""
    lines = []
    for definition in definitions:
        problems = match_problems(definition.match)
        if problems:
            lines.append((definition, "match is invalid: " + "; ".join(problems)))
        else:
            why = mismatch(definition.match, source, severity, labels, host)
            lines.append((definition, why))
    return lines
