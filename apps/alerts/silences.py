"""Silences and maintenance windows: create, list, expire, and which one silences an alert.

Every function takes `now` (the clock is injected; tests never sleep). Matching uses
apps.common.matchers on `alert_labels` (an alert's labels plus alertname/name, host, source,
severity). Recurring silences open windows from a cron schedule (apps.common.cron).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from apps.alerts.models import Alert, Silence
from apps.common import cron
from apps.common.matchers import Matcher, MatcherError, from_dicts, matches_all, parse_all, render
from apps.common.text import one_line

MAX_RECURRING_DURATION = timedelta(days=7)


# What the command and the API call the fields of create() in their error messages.
COMMAND_NAMES = {"duration": "--duration", "until": "--until", "every": "--every", "tz": "--tz"}
API_NAMES = {"duration": "duration", "until": "ends_at", "every": "every", "tz": "tz"}


class SilenceError(ValueError):
    """Bad input for a silence; the message is one line."""


def alert_labels(alert: Any) -> dict[str, str]:
    """What matchers see: the alert's labels plus its normalised fields."""
    labels = {str(k): "" if v is None else str(v) for k, v in (alert.labels or {}).items()}
    labels.setdefault("alertname", alert.name)
    labels["name"] = alert.name
    labels["severity"] = alert.severity
    labels["source"] = getattr(alert, "source", "") or labels.get("source", "")
    if alert.host:
        labels["host"] = alert.host
    return labels


@dataclass(frozen=True)
class Verdict:
    silence: Silence
    until: datetime
    now: datetime

    @property
    def reason(self) -> str:
        about = describe(self.silence, self.until, self.now)
        return f"silenced by silence #{self.silence.pk} ({about})"


def describe(silence: Silence, until: datetime, now: datetime) -> str:
    comment = one_line(silence.comment, 120) or render(matchers_of(silence))
    return f"{comment}, until {clock(until, now)}"


def clock(moment: datetime, now: datetime | None = None) -> str:
    moment = moment.astimezone(UTC)
    today = (now or timezone.now()).astimezone(UTC).date()
    if moment.date() == today:
        return moment.strftime("%H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def matchers_of(silence: Silence) -> list[Matcher]:
    return from_dicts(silence.matchers or [])


def window(silence: Silence, now: datetime) -> tuple[datetime, datetime] | None:
    """The [start, end) of the silence that is open at `now`, or None."""
    if silence.expired_at is not None and silence.expired_at <= now:
        return None
    if silence.starts_at > now:
        return None
    end_cap = silence.ends_at
    if silence.expired_at is not None:
        end_cap = min(end_cap, silence.expired_at) if end_cap else silence.expired_at
    if not silence.schedule:
        return (silence.starts_at, end_cap) if end_cap and now < end_cap else None
    if end_cap is not None and now >= end_cap:
        return None
    duration = timedelta(seconds=silence.duration_s or 0)
    found = cron.open_window(
        cron.parse_schedule(silence.schedule), cron.parse_zone(silence.time_zone), duration, now
    )
    if found is None:
        return None
    start, end = found
    return start, min(end, end_cap) if end_cap else end


def candidates(now: datetime) -> list[Silence]:
    """Silences that may be active at `now` (one query; windows are checked in Python)."""
    query = Silence.objects.filter(starts_at__lte=now).filter(
        Q(expired_at__isnull=True) | Q(expired_at__gt=now)
    )
    return list(query.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now)).order_by("id"))


@dataclass(frozen=True)
class OpenSilence:
    silence: Silence
    matchers: list[Matcher]
    until: datetime


def open_at(silences: list[Silence], now: datetime) -> list[OpenSilence]:
    """The silences open at `now` with their parsed matchers: worked out once, then matched
    against any number of alerts."""
    found = []
    for silence in silences:
        opened = window(silence, now)
        if opened is not None:
            found.append(OpenSilence(silence, matchers_of(silence), opened[1]))
    return found


def silencing(labels: dict[str, str], now: datetime, silences: list[Silence]) -> Verdict | None:
    return first_silencing(labels, now, open_at(silences, now))


def first_silencing(
    labels: dict[str, str], now: datetime, opened: list[OpenSilence]
) -> Verdict | None:
    for item in opened:
        if matches_all(item.matchers, labels):
            return Verdict(item.silence, item.until, now)
    return None


def is_active(silence: Silence, now: datetime | None = None) -> bool:
    return window(silence, now or timezone.now()) is not None


# --- writing --------------------------------------------------------------------------------


def create(
    matchers: list[str],
    *,
    comment: str,
    created_by: str = "",
    duration: str | None = None,
    until: datetime | None = None,
    starts_at: datetime | None = None,
    every: str | None = None,
    tz: str | None = None,
    now: datetime | None = None,
    names: dict[str, str] | None = None,
) -> Silence:
    """Validate and store a silence; raises SilenceError with one line. `names` are what the
    caller calls the fields in its messages (the command's flags by default, see API_NAMES)."""
    name = COMMAND_NAMES | (names or {})
    now = now or timezone.now()
    try:
        parsed = parse_all(matchers)
    except MatcherError as exc:
        raise SilenceError(str(exc)) from None
    start = starts_at or now
    for key, value in (("every", every), ("tz", tz), ("duration", duration)):
        if value is not None and not value.strip():  # an unset shell variable, an empty field
            raise SilenceError(f"{name[key]} is empty: give a value or leave it out")
    if tz and not every:
        raise SilenceError(f"{name['tz']} only applies with {name['every']} (a recurring window)")
    try:
        length = cron.parse_duration(duration) if duration else None
    except cron.CronError as exc:
        raise SilenceError(str(exc)) from None
    schedule_fields: dict[str, Any] = {}
    if every:
        if length is None:
            raise SilenceError(f"a recurring silence ({name['every']}) needs {name['duration']}")
        schedule_fields = {"schedule": every, "duration_s": int(length.total_seconds())}
        ends_at = until
    else:
        if (length is None) == (until is None):
            raise SilenceError(f"give exactly one of {name['duration']} and {name['until']}")
        ends_at = until if until is not None else start + length  # type: ignore[operator]
    fields = checked_fields(
        comment=comment, starts_at=start, ends_at=ends_at, time_zone=tz or "UTC", **schedule_fields
    )
    return Silence.objects.create(
        matchers=[m.as_dict() for m in parsed],
        created_by=created_by[:150],
        created_at=now,
        **fields,
    )


MAX_COMMENT_CHARS = 2000  # shown on every page it holds back: a reason, not a document


def checked_fields(
    *,
    comment: str,
    starts_at: datetime,
    ends_at: datetime | None,
    schedule: str = "",
    duration_s: int | None = None,
    time_zone: str = "UTC",
) -> dict[str, Any]:
    """The rules every silence keeps, whichever door it came through (CLI, API, console,
    admin): a comment, an end after the start for a one-off, a valid schedule and zone with a
    window of at most 7 days for a recurring one. The fields to store; SilenceError otherwise."""
    if not (comment or "").strip():
        raise SilenceError("a comment is required: say why (it is shown on every skipped page)")
    if len(comment.strip()) > MAX_COMMENT_CHARS:
        raise SilenceError(f"the comment is longer than {MAX_COMMENT_CHARS} characters")
    fields: dict[str, Any] = {
        "comment": comment.strip(),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "time_zone": time_zone or "UTC",
    }
    if schedule:
        try:
            cron.parse_new_schedule(schedule)  # refuses a schedule that never fires
            cron.parse_zone(fields["time_zone"])
        except cron.CronError as exc:
            raise SilenceError(str(exc)) from None
        if not duration_s or duration_s <= 0:
            raise SilenceError("a recurring window needs a duration")
        if timedelta(seconds=duration_s) > MAX_RECURRING_DURATION:
            raise SilenceError("a recurring window may last at most 7d")
        fields |= {"schedule": schedule, "duration_s": duration_s}
    elif ends_at is None:
        raise SilenceError("a one-off silence needs an end")
    if ends_at is not None and ends_at <= starts_at:
        raise SilenceError("the silence would end before it starts")
    return fields


def expire(silence_id: int, now: datetime | None = None, by: str = "") -> Silence:
    """End a silence now; `by` records who (the row stays, with its history)."""
    now = now or timezone.now()
    silence = Silence.objects.filter(pk=silence_id).first()
    if silence is None:
        raise SilenceError(f"no silence with id {silence_id}")
    if not _current_or_future(silence, now):
        raise SilenceError(f"silence #{silence_id} has already ended")
    silence.expired_at = now
    silence.expired_by = by[:150]
    silence.save(update_fields=["expired_at", "expired_by"])
    return silence


def _current_or_future(silence: Silence, now: datetime) -> bool:
    if silence.expired_at is not None and silence.expired_at <= now:
        return False
    return silence.ends_at is None or silence.ends_at > now


def listed(*, include_ended: bool = False, now: datetime | None = None) -> list[Silence]:
    now = now or timezone.now()
    rows = list(Silence.objects.order_by("-id")[:1000])
    return rows if include_ended else [s for s in rows if _current_or_future(s, now)]


def state(silence: Silence, now: datetime) -> str:
    if silence.expired_at is not None and silence.expired_at <= now:
        return "expired"
    if silence.ends_at is not None and silence.ends_at <= now:
        return "ended"
    if window(silence, now) is not None:
        return "active"
    return "scheduled" if silence.schedule else "pending"


def as_dict(silence: Silence, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    opened = window(silence, now)
    return {
        "id": silence.pk,
        "matchers": render(matchers_of(silence)),
        "matcher_list": list(silence.matchers),
        "state": state(silence, now),
        "starts_at": silence.starts_at.isoformat(),
        "ends_at": silence.ends_at.isoformat() if silence.ends_at else None,
        "schedule": silence.schedule or None,
        "duration_s": silence.duration_s,
        "time_zone": silence.time_zone,
        "open_until": opened[1].isoformat() if opened else None,
        "created_by": silence.created_by,
        "comment": silence.comment,
        "expired_at": silence.expired_at.isoformat() if silence.expired_at else None,
        "expired_by": silence.expired_by,
    }


def query(matchers: list[str] | str, limit: int = 500) -> list[Alert]:
    """Firing alerts that these matchers would silence (one query)."""
    try:
        parsed = parse_all(matchers)
    except MatcherError as exc:
        raise SilenceError(str(exc)) from None
    return matching(parsed, limit)


def matching(parsed: list[Matcher], limit: int = 500) -> list[Alert]:
    firing = Alert.objects.filter(status=Alert.Status.FIRING).order_by("-id")[:10_000]
    hits = [a for a in firing if matches_all(parsed, alert_labels(a))]
    return hits[:limit]


def next_start(silence: Silence, now: datetime, horizon_days: int = 400) -> datetime | None:
    """When the silence next opens after `now` (UTC): a pending one-off's start, a recurring
    one's next window start within its starts_at/ends_at/expiry; None when it never will."""
    stop = min((t for t in (silence.expired_at, silence.ends_at) if t), default=None)
    if stop is not None and stop <= now:
        return None
    if not silence.schedule:
        return silence.starts_at if silence.starts_at > now else None
    after = max(now, silence.starts_at - timedelta(seconds=1))
    schedule = cron.parse_schedule(silence.schedule)
    zone = cron.parse_zone(silence.time_zone)
    step = timedelta(days=31)  # look a month at a time: most schedules answer in the first
    while after < now + timedelta(days=horizon_days):
        found = schedule.starts_between(zone, after, after + step)
        if found:
            start = found[0]
            return start if stop is None or start < stop else None
        after += step
    return None


def ended_since(now: datetime) -> list[tuple[Silence, datetime]]:
    """(silence, end) for silences that ended since they were last swept: a one-off's end or
    expiry, a recurring window's latest end (two queries)."""
    found: list[tuple[Silence, datetime]] = []
    one_off = Silence.objects.filter(schedule="", ended_swept_until__isnull=True).filter(
        Q(ends_at__lte=now) | Q(expired_at__lte=now)
    )
    for silence in one_off.order_by("id")[:1000]:
        ends = [t for t in (silence.ends_at, silence.expired_at) if t is not None and t <= now]
        found.append((silence, min(ends)))
    recurring = Silence.objects.exclude(schedule="").filter(starts_at__lte=now)
    for silence in recurring.order_by("id")[:1000]:
        end = _last_window_end(silence, now)
        swept = silence.ended_swept_until
        if end is not None and (swept is None or end > swept):
            found.append((silence, end))
    return found


def _last_window_end(silence: Silence, now: datetime) -> datetime | None:
    """The latest end of one of its windows in (last sweep, now], cut by expiry or ends_at."""
    since = silence.ended_swept_until or silence.starts_at
    since = max(since, now - MAX_RECURRING_DURATION * 2)
    schedule = cron.parse_schedule(silence.schedule)
    zone = cron.parse_zone(silence.time_zone)
    duration = timedelta(seconds=silence.duration_s or 0)
    stop = min((t for t in (silence.expired_at, silence.ends_at) if t), default=None)
    ends = []
    for start, end in cron.windows_ending(schedule, zone, duration, since, now + duration):
        if start < silence.starts_at or (stop is not None and stop <= start):
            continue
        cut = min(end, stop) if stop is not None else end
        if since < cut <= now:
            ends.append(cut)
    return max(ends) if ends else None
