"""Five-field cron schedules for recurring windows, evaluated in a time zone.

`minute hour day-of-month month day-of-week`, with `*`, lists, ranges, `*/n` and `a-b/n`, month
and day names (`JAN`, `SUN`), Sunday as 0 or 7, and cron's rule that when both day fields are
restricted a day matching either one counts.

Windows are found on the wall clock of the zone and last an absolute duration:
- a start in the hour that a spring change skips (02:30 in Berlin on the last Sunday of March)
  starts at the instant the clocks jump (01:00 UTC), so the window is neither lost nor doubled;
- a start in the hour that an autumn change repeats starts at its first occurrence only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12),
           ("day of week", 0, 7))  # fmt: skip
_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class CronError(ValueError):
    """A schedule, duration or time zone that cannot be used; the message is one line."""


def _value(text: str, field: str, names: list[str] | None, offset: int) -> int:
    if names and text.upper() in names:
        return names.index(text.upper()) + offset
    if not text.isdigit():
        raise CronError(f"{field}: {text!r} is not a number")
    return int(text)


def _field(text: str, field: str, low: int, high: int) -> frozenset[int]:
    names = MONTHS if field == "month" else DAYS if field == "day of week" else None
    offset = 1 if field == "month" else 0
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise CronError(f"{field}: step {step_text!r} must be a positive number")
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start = _value(first, field, names, offset)
            end = _value(last, field, names, offset)
        else:
            start = end = _value(base, field, names, offset)
            if step:
                end = high
        if not (low <= start <= high and low <= end <= high) or start > end:
            raise CronError(f"{field}: {base!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step or 1))
    return frozenset(values)


@dataclass(frozen=True)
class Schedule:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    def runs_on(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        weekday = (day.weekday() + 1) % 7
        by_day, by_weekday = day.day in self.days, weekday in self.weekdays
        if self.any_day or self.any_weekday:
            return by_day and by_weekday
        return by_day or by_weekday

    def starts_between(self, zone: ZoneInfo, after: datetime, until: datetime) -> list[datetime]:
        """Window starts (UTC) in (after, until], found on the zone's wall clock."""
        first = after.astimezone(zone).date() - timedelta(days=1)
        last = until.astimezone(zone).date() + timedelta(days=1)
        found: list[datetime] = []
        day = first
        while day <= last:
            if self.runs_on(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        instant = wall_instant(zone, datetime.combine(day, time(hour, minute)))
                        if after < instant <= until and instant not in found:
                            found.append(instant)
            day += timedelta(days=1)
        return sorted(found)


def wall_instant(zone: ZoneInfo, wall: datetime) -> datetime:
    """The UTC instant of a naive wall time: the first of a repeated one; for one the clocks
    skip, the instant they jump."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    low = int(wall.replace(tzinfo=zone, fold=1).timestamp())  # before the jump
    high = int(first.timestamp())
    offset_after = first.astimezone(zone).utcoffset()
    while high - low > 1:  # the offset changes at a whole second in (low, high]
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == offset_after:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def parse_schedule(text: str) -> Schedule:
    fields = text.split()
    if len(fields) != 5:
        raise CronError(f"schedule {text!r} needs 5 fields (minute hour day month weekday)")
    parsed = [_field(part, *spec) for part, spec in zip(fields, _FIELDS, strict=True)]
    weekdays = frozenset(day % 7 for day in parsed[4])
    return Schedule(text, parsed[0], parsed[1], parsed[2], parsed[3], weekdays,
                    fields[2] == "*", fields[4] == "*")  # fmt: skip


_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February 29 in leap years


def parse_new_schedule(text: str) -> Schedule:
    """A schedule for a new window: parsed, and refused if no date ever matches it."""
    schedule = parse_schedule(text)
    day_decides = schedule.any_weekday and not schedule.any_day  # a weekday comes every month
    possible = any(d <= _MONTH_DAYS[m - 1] for m in schedule.months for d in schedule.days)
    if day_decides and not possible:
        raise CronError(f"schedule {text!r} never fires (no month has that day)")
    return schedule


def parse_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CronError(f"unknown time zone {name!r} (an IANA name like Europe/Berlin)") from None


MAX_DURATION_S = 100 * 366 * 86400  # far past any real silence, and within datetime's range


def parse_duration(text: str) -> timedelta:
    """`2h`, `90m`, `1h30m`, `1d`, `45s`."""
    compact = text.strip().lower()
    parts = _DURATION.findall(compact)
    if not parts or _DURATION.sub("", compact).strip():
        raise CronError(f"duration {text!r} is not like 2h, 90m or 1h30m")
    seconds = sum(int(count) * _UNITS[unit] for count, unit in parts)
    if seconds <= 0:
        raise CronError(f"duration {text!r} must be longer than zero")
    if seconds > MAX_DURATION_S:
        raise CronError(f"duration {text[:40]!r} is longer than 100 years")
    return timedelta(seconds=seconds)


def open_window(
    schedule: Schedule, zone: ZoneInfo, duration: timedelta, now: datetime
) -> tuple[datetime, datetime] | None:
    """The window (start, end) open at `now`, the one that ends last if several overlap."""
    starts = schedule.starts_between(zone, now - duration, now)
    return (starts[-1], starts[-1] + duration) if starts else None


def windows_ending(
    schedule: Schedule, zone: ZoneInfo, duration: timedelta, after: datetime, until: datetime
) -> list[tuple[datetime, datetime]]:
    """Windows whose end falls in (after, until]."""
    starts = schedule.starts_between(zone, after - duration, until - duration)
    return [(start, start + duration) for start in starts]
