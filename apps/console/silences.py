"""Silences in the console: which incidents are held back now, "silence for..." on an incident
page, and what the silence pages show (apps.alerts.silences and apps.alerts.inhibition do the
work: the same services as `manage.py silence` and /api/silences)."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from apps.alerts import silences
from apps.alerts.inhibition import compile_rule, firing_sources, quiet_reasons
from apps.alerts.models import ACTIVE_STATUSES, Alert, Incident, InhibitionRule, Silence
from apps.common import cron
from apps.common.matchers import MAX_PATTERN_CHARS, Matcher, matches_all, render

SILENCES_ENABLED = True
# What the incident page offers (label, duration).
DURATIONS = (("1 hour", "1h"), ("4 hours", "4h"), ("1 day", "24h"))
PREVIEW_LIMIT = 200


def silence_marks(incident_ids: list[int]) -> dict[int, str]:
    """incident id -> why its pages are held back now (silenced or inhibited); two to four
    queries whatever the number of incidents."""
    return quiet_reasons(incident_ids)


def matchers_for(incident: Incident) -> list[str]:
    """Matchers covering an incident's firing alerts: their alertname and their host (regexes of
    the values when they differ), so the same alert elsewhere in the fleet is not silenced."""
    firing = list(incident.alerts.filter(status=Alert.Status.FIRING).order_by("id")[:200])
    alerts = firing or list(incident.alerts.order_by("id")[:200])
    labels = [silences.alert_labels(alert) for alert in alerts]
    names = sorted({item["alertname"] for item in labels}) or [incident.title]
    # host="" matches only alerts without a host (Alertmanager's meaning of an empty value): a
    # host-less incident's silence must not hold back the same alert on every host.
    hosts = sorted({item.get("host", "") for item in labels}) or [incident.host]
    return [str(one_of("alertname", names)), str(one_of("host", hosts))]


def one_of(label: str, values: list[str]) -> Matcher:
    if len(values) == 1:
        return Matcher(label, "=", values[0])
    pattern = "|".join(re.escape(value) for value in values)  # "" among them: a missing label
    if len(pattern) > MAX_PATTERN_CHARS:
        raise silences.SilenceError(
            f"the incident's alerts have {len(values)} values of {label}, too many for one "
            "matcher: add the silence on the silences page with a pattern that covers them"
        )
    return Matcher(label, "=~", pattern)


def silence_incident(incident: Incident, duration: str, comment: str, who: str) -> Silence:
    if duration not in {value for _, value in DURATIONS}:
        raise silences.SilenceError(f"choose a duration: {', '.join(v for _, v in DURATIONS)}")
    return silences.create(
        matchers_for(incident),
        comment=comment or f"silenced from the console for incident #{incident.pk}",
        created_by=who,
        duration=duration,
    )


# --- the silence pages ----------------------------------------------------------------------


FORM_NAMES = {"duration": "duration", "until": "until", "every": "every", "tz": "time zone"}


@dataclass
class SilenceForm:
    """What the create form holds, as typed (re-shown unchanged when something is wrong)."""

    matchers: str = ""
    duration: str = ""
    until: str = ""
    starts: str = ""
    every: str = ""
    tz: str = "UTC"
    comment: str = ""

    @classmethod
    def from_post(cls, data: Mapping[str, str]) -> "SilenceForm":
        names = [f.name for f in fields(cls)]
        return cls(**{n: str(data.get(n, "")).strip()[:2000] for n in names if n in data})

    def moment(self, label: str, text: str) -> datetime | None:
        """A date and time typed in the form; without a zone it is UTC (the form says so)."""
        if not text:
            return None
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise silences.SilenceError(f"{label} {text!r} is not a date and time") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def save(self, who: str) -> Silence:
        if self.duration and self.until:
            raise silences.SilenceError("give a duration or an end time, not both")
        return silences.create(
            [self.matchers],
            comment=self.comment,
            created_by=who,
            duration=self.duration or None,
            until=self.moment("until", self.until),
            starts_at=self.moment("starts", self.starts),
            every=self.every or None,
            tz=(self.tz or None) if self.every else None,  # the form always shows a zone
            names=FORM_NAMES,
        )


def preview(matchers: str) -> list[Alert]:
    """The firing alerts a form's matchers would silence (raises SilenceError on bad ones)."""
    return silences.query([matchers], limit=PREVIEW_LIMIT)


@dataclass
class Row:
    silence: Silence
    state: str
    matchers: str
    next_start: datetime | None
    next_start_local: str

    @property
    def ended(self) -> bool:
        return self.state in ("ended", "expired")


def row(silence: Silence, now: datetime) -> Row:
    start = silences.next_start(silence, now)
    local = ""
    if start is not None:
        local = start.astimezone(cron.parse_zone(silence.time_zone or "UTC")).strftime(
            "%Y-%m-%d %H:%M %Z"
        )
    return Row(silence, silences.state(silence, now), render(silences.matchers_of(silence)),
               start, local)  # fmt: skip


def grouped(include_ended: bool, now: datetime) -> dict[str, list[Row]]:
    """Active, then pending and scheduled, then (when asked) ended and expired: one query."""
    groups: dict[str, list[Row]] = {"active": [], "pending": [], "ended": []}
    for silence in silences.listed(include_ended=include_ended, now=now):
        item = row(silence, now)
        key = "active" if item.state == "active" else "ended" if item.ended else "pending"
        groups[key].append(item)
    return groups


@dataclass
class Reach:
    """Which firing alerts a silence matches now, and the open incidents they belong to."""

    alerts: list[Alert]
    incidents: list[tuple[Incident, str]]  # (incident, why it is quiet now; "" = it is not)


def reach(silence: Silence) -> Reach:
    """Three to six queries whatever the number of alerts."""
    alerts = silences.matching(silences.matchers_of(silence), limit=PREVIEW_LIMIT)
    ids = sorted({a.incident_id for a in alerts if a.incident_id})
    incidents = list(
        Incident.objects.filter(pk__in=ids, status__in=ACTIVE_STATUSES).order_by("-id")[:100]
    )
    marks = silence_marks([i.pk for i in incidents]) if incidents else {}
    return Reach(alerts, [(incident, marks.get(incident.pk, "")) for incident in incidents])


def rule_rows() -> list[dict[str, Any]]:
    """Inhibition rules with how many source alerts fire for each now (two queries)."""
    rules = list(InhibitionRule.objects.order_by("name"))
    compiled = [compile_rule(rule) for rule in rules if rule.enabled]
    sources = firing_sources(compiled)
    firing = {rule.name: sum(1 for _, labels, _ in sources if matches_all(rule.source, labels))
              for rule in compiled}  # fmt: skip
    return [{"rule": rule, "firing_sources": firing.get(rule.name)} for rule in rules]
