"""Maintenance-window schedules: cron fields, and the two DST change days of Europe/Berlin
(2026-03-29 02:00 -> 03:00, 2026-10-25 03:00 -> 02:00) with an injected clock."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.common.cron import (
    CronError,
    open_window,
    parse_duration,
    parse_schedule,
    parse_zone,
    windows_ending,
)

BERLIN = parse_zone("Europe/Berlin")
TWO_HOURS = timedelta(hours=2)


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


def window_at(schedule, now, duration=TWO_HOURS, zone=BERLIN):
    return open_window(parse_schedule(schedule), zone, duration, now)


def test_an_ordinary_sunday_window_in_winter_and_summer():
    # 02:00 Berlin is 01:00 UTC in winter (CET) and 00:00 UTC in summer (CEST).
    assert window_at("0 2 * * SUN", utc(2026, 1, 4, 1, 30)) == (
        utc(2026, 1, 4, 1),
        utc(2026, 1, 4, 3),
    )
    assert window_at("0 2 * * SUN", utc(2026, 7, 5, 0, 0)) == (
        utc(2026, 7, 5, 0),
        utc(2026, 7, 5, 2),
    )
    assert window_at("0 2 * * SUN", utc(2026, 7, 5, 2, 0)) is None  # the end is exclusive
    assert window_at("0 2 * * SUN", utc(2026, 7, 6, 0, 30)) is None  # a Monday


def test_spring_forward_day_a_start_in_the_skipped_hour_opens_when_the_clocks_jump():
    # 2026-03-29: 02:00 CET does not exist; the clocks jump at 01:00 UTC to 03:00 CEST.
    start, end = window_at("0 2 * * SUN", utc(2026, 3, 29, 1, 0))
    assert (start, end) == (utc(2026, 3, 29, 1), utc(2026, 3, 29, 3))
    assert window_at("0 2 * * SUN", utc(2026, 3, 29, 0, 59)) is None
    assert window_at("30 2 * * SUN", utc(2026, 3, 29, 2, 59))[0] == utc(2026, 3, 29, 1)
    # A window across the change lasts its absolute duration: 01:30 CET + 2h = 04:30 CEST.
    start, end = window_at("30 1 * * SUN", utc(2026, 3, 29, 2, 0))
    assert (start, end) == (utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 2, 30))
    assert end.astimezone(BERLIN).strftime("%H:%M %Z") == "04:30 CEST"


def test_fall_back_day_a_start_in_the_repeated_hour_opens_once():
    # 2026-10-25: 02:00-03:00 happens twice (CEST then CET); the first one counts.
    start, end = window_at("30 2 * * SUN", utc(2026, 10, 25, 0, 45))
    assert (start, end) == (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 2, 30))
    ends = windows_ending(parse_schedule("30 2 * * SUN"), BERLIN, TWO_HOURS,
                          utc(2026, 10, 24), utc(2026, 10, 26))  # fmt: skip
    assert ends == [(utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 2, 30))]
    # An hourly schedule opens once per wall-clock hour: 01:00 .. 23:00, 02:00 only once.
    starts = parse_schedule("0 * * * *").starts_between(
        BERLIN, utc(2026, 10, 24, 22), utc(2026, 10, 25, 22, 59)
    )
    assert len(starts) == 23
    assert len(set(starts)) == len(starts)


@pytest.mark.parametrize(
    ("text", "minute", "hour", "weekday"),
    [("*/15 1-3 * * MON-FRI", 45, 3, 5), ("0 0 * * 7", 0, 0, 0), ("5,10 22 * * sun", 10, 22, 0)],
)
def test_fields_lists_ranges_steps_and_names(text, minute, hour, weekday):
    schedule = parse_schedule(text)
    assert minute in schedule.minutes and hour in schedule.hours
    assert weekday in schedule.weekdays


def test_day_of_month_or_weekday_when_both_are_restricted():
    schedule = parse_schedule("0 0 1 * MON")
    assert schedule.runs_on(datetime(2026, 6, 1).date())  # the 1st (a Monday too)
    assert schedule.runs_on(datetime(2026, 6, 8).date())  # a Monday
    assert schedule.runs_on(datetime(2026, 7, 1).date())  # the 1st, a Wednesday
    assert not schedule.runs_on(datetime(2026, 6, 9).date())


@pytest.mark.parametrize(
    ("text", "message"),
    [("0 2 * *", "needs 5 fields"), ("61 * * * *", "outside 0-59"), ("0 2 * * FUNDAY", "not a number"),
     ("*/0 * * * *", "positive"), ("5-1 * * * *", "outside")],
)  # fmt: skip
def test_bad_schedules_are_one_line_errors(text, message):
    with pytest.raises(CronError, match=message):
        parse_schedule(text)


def test_durations():
    assert parse_duration("2h") == TWO_HOURS
    assert parse_duration("1h30m") == timedelta(minutes=90)
    for bad in ("", "2", "2 hours", "0m", "-1h"):
        with pytest.raises(CronError):
            parse_duration(bad)
