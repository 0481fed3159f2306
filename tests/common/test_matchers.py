"""Matchers without amtool: the errors users see and the linear-time guarantee."""

import time

import pytest

from apps.common.matchers import Matcher, MatcherError, matches_all, parse_all, parse_matchers


def test_a_pattern_that_backtracks_in_python_runs_in_linear_time():
    # `(a+)+$` takes exponential time in a backtracking engine on 'aaaa...b'.
    matcher = parse_matchers('host=~"(a+)+"')[0]
    started = time.monotonic()
    assert not matcher.matches({"host": "a" * 50_000 + "b"})
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('host=~"(a)\\1"', "invalid regular expression"),
        ('host=~"(?=a)"', "no backreferences or lookaround"),
        ("host", "bad matcher format"),
        ('msg="open', "unescaped double quote"),
    ],
)
def test_errors_are_one_line_and_say_what(text, message):
    with pytest.raises(MatcherError) as raised:
        parse_matchers(text)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_an_empty_list_is_an_error_and_several_strings_are_anded():
    with pytest.raises(MatcherError, match="at least one"):
        parse_all([])
    with pytest.raises(MatcherError, match="at least one"):
        parse_all("{}")
    matchers = parse_all(["alertname=DiskFull", 'host=~"web-0[1-7]"'])
    assert matches_all(matchers, {"alertname": "DiskFull", "host": "web-07"})
    assert not matches_all(matchers, {"alertname": "DiskFull", "host": "web-08"})


def test_an_overlong_pattern_is_refused():
    with pytest.raises(MatcherError, match="longer than"):
        Matcher("host", "=~", "a" * 1001)


def test_a_missing_label_matches_as_empty():
    assert Matcher("team", "=", "").matches({})
    assert Matcher("team", "!~", ".+").matches({})
    assert not Matcher("team", "=~", ".+").matches({})
