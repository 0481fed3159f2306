"""Inhibition rules (Alertmanager's inhibit_rules) and the quiet verdict of an incident.

A target alert is inhibited while another firing alert matches a rule's source_matchers, the
target matches its target_matchers, and both have the same value (a missing label counts as
"") for every label in `equal`. An alert never inhibits itself.

An incident is quiet when every one of its firing alerts is silenced or inhibited; the reason
given is the first alert's (silences before inhibitions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone

from apps.alerts.models import Alert, AlertEvent, InhibitionRule
from apps.alerts.silences import alert_labels, candidates, first_silencing, open_at
from apps.common.matchers import Matcher, MatcherError, matches_all, parse_all
from apps.common.text import shown

MAX_SOURCE_ALERTS = 5000
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def rule_problems(source: Any, target: Any, equal: Any) -> list[str]:
    """One sentence per problem of a rule's fields (admin, command and settings share it)."""
    problems = []
    for field, value in (("source_matchers", source), ("target_matchers", target)):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{field} must be a list of matcher strings")
            continue
        try:
            parse_all(value)
        except MatcherError as exc:
            problems.append(f"{field}: {exc}")
    if not isinstance(equal, list) or not all(
        isinstance(v, str) and _LABEL_NAME.match(v) for v in equal
    ):
        problems.append(f"equal must be a list of label names, got {shown(equal)}")
    return problems


@dataclass(frozen=True)
class CompiledRule:
    name: str
    source: list[Matcher]
    target: list[Matcher]
    equal: tuple[str, ...]


def compile_rule(row: InhibitionRule) -> CompiledRule:
    return CompiledRule(row.name, parse_all(row.source_matchers),
                        parse_all(row.target_matchers), tuple(row.equal))  # fmt: skip


def active_rules() -> list[CompiledRule]:
    rows = InhibitionRule.objects.filter(enabled=True).order_by("name")
    return [compile_rule(row) for row in rows]


def firing_sources(rules: list[CompiledRule]) -> list[tuple[int, dict[str, str], Alert]]:
    """Firing alerts that match some rule's source side (one query)."""
    if not rules:
        return []
    firing = Alert.objects.filter(status=Alert.Status.FIRING).order_by("id")
    names = [_required_name(rule.source) for rule in rules]
    if all(names):  # every rule names its source alert: let the database narrow them down
        wanted = sorted(set(names))
        firing = firing.filter(Q(name__in=wanted) | Q(labels__alertname__in=wanted))
    found = []
    for alert in firing[:MAX_SOURCE_ALERTS]:
        labels = alert_labels(alert)
        if any(matches_all(rule.source, labels) for rule in rules):
            found.append((alert.pk, labels, alert))
    return found


def _required_name(matchers: list[Matcher]) -> str:
    """The alert name a matcher list requires with `alertname=` / `name=`, else ""."""
    for matcher in matchers:
        if matcher.op == "=" and matcher.name in ("alertname", "name") and matcher.value:
            return matcher.value
    return ""


def inhibiting(
    alert_id: int | None,
    labels: dict[str, str],
    rules: list[CompiledRule],
    sources: list[tuple[int, dict[str, str], Alert]],
) -> str:
    """Why the alert is inhibited ("" when it is not)."""
    for rule in rules:
        if not matches_all(rule.target, labels):
            continue
        for source_id, source_labels, source in sources:
            if alert_id is not None and source_id == alert_id:
                continue
            if not matches_all(rule.source, source_labels):
                continue
            if all(source_labels.get(n, "") == labels.get(n, "") for n in rule.equal):
                where = f" on {source.host}" if source.host else ""
                return f"inhibited by alert '{source.name}'{where} (rule {rule.name})"
    return ""


@dataclass
class Quiet:
    """The verdict for a set of alerts: empty reason = notify."""

    reason: str = ""
    kind: str = ""  # "silenced" | "inhibited"
    per_alert: dict[int, str] | None = None


class QuietCheck:
    """Loads silences, rules and source alerts once; answers for many alerts or incidents."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or timezone.now()
        self.silences = open_at(candidates(self.now), self.now)
        self.rules = active_rules()
        self.sources = firing_sources(self.rules)

    def alert_reason(self, alert: Any) -> tuple[str, str]:
        """("silenced" | "inhibited" | "", the reason) for a stored or incoming alert."""
        return self.labels_reason(alert_labels(alert), getattr(alert, "pk", None))

    def labels_reason(self, labels: dict[str, str], alert_id: int | None) -> tuple[str, str]:
        verdict = first_silencing(labels, self.now, self.silences)
        if verdict is not None:
            return "silenced", verdict.reason
        reason = inhibiting(alert_id, labels, self.rules, self.sources)
        return ("inhibited", reason) if reason else ("", "")

    def incident(self, incident: Any) -> Quiet:
        if incident is None or (not self.silences and not self.rules):
            return Quiet()
        firing = list(incident.alerts.filter(status=Alert.Status.FIRING).order_by("id")[:500])
        return self.verdict(firing)

    def incidents(self, incident_ids: list[int]) -> dict[int, Quiet]:
        """The verdict of several incidents (one query for all their firing alerts)."""
        if not incident_ids or (not self.silences and not self.rules):
            return {}
        by_incident: dict[int, list[Alert]] = {}
        firing = Alert.objects.filter(incident_id__in=incident_ids, status=Alert.Status.FIRING)
        for alert in firing.order_by("id")[: 500 * len(incident_ids)]:
            by_incident.setdefault(alert.incident_id or 0, []).append(alert)
        return {pk: self.verdict(alerts) for pk, alerts in by_incident.items()}

    def verdict(self, firing: list[Any]) -> Quiet:
        """Quiet when every firing alert is silenced or inhibited (none firing: not quiet)."""
        if not firing:
            return Quiet()
        per_alert: dict[int, str] = {}
        first: tuple[str, str] | None = None
        for alert in firing:
            kind, reason = self.alert_reason(alert)
            if not reason:
                return Quiet()
            per_alert[alert.pk] = reason
            first = first or (kind, reason)
        assert first is not None
        return Quiet(reason=first[1], kind=first[0], per_alert=per_alert)


def quiet_incident(incident: Any, now: datetime | None = None) -> Quiet:
    return QuietCheck(now).incident(incident)


def record_quiet(quiet: Quiet, trace_id: str = "") -> int:
    """An AlertEvent ("silenced" / "inhibited") per alert, once per distinct reason."""
    reasons = quiet.per_alert or {}
    if not reasons:
        return 0
    seen = set(
        AlertEvent.objects.filter(
            alert_id__in=list(reasons), kind__in=("silenced", "inhibited")
        ).values_list("alert_id", "reason")
    )
    now = timezone.now()
    rows = [
        AlertEvent(
            alert_id=alert_id,
            kind="silenced" if reason.startswith("silenced") else "inhibited",
            reason=reason,
            trace_id=trace_id[:64],
            created_at=now,
        )
        for alert_id, reason in reasons.items()
        if (alert_id, reason) not in seen
    ]
    AlertEvent.objects.bulk_create(rows)
    return len(rows)


def quiet_reasons(incident_ids: list[int]) -> dict[int, str]:
    """incident id -> why its pages are held back now (silenced or inhibited); absent when they
    are not. Two to four queries whatever the number of incidents (the console's marks and the
    API's and CLI's `silenced` field)."""
    return {pk: quiet.reason for pk, quiet in QuietCheck().incidents(incident_ids).items()
            if quiet.reason}  # fmt: skip
