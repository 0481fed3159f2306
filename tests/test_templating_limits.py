"""The template sandbox also bounds what `*` and `**` may build (memory and CPU), and the
bounded code is what the bytecode cache serves."""

import pytest

from apps.common import templating


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'a' * 10**10 }}",
        "{{ 10**10 * 'ab' }}",
        "{{ [0] * 2000000 }}",
        "{{ (payload.x ~ '') * 10**9 }}",
        "{{ 2 ** 100000 }}",
    ],
)
def test_huge_results_are_refused_in_one_line(source):
    with pytest.raises(templating.TemplateError) as refused:
        templating.render(source, {"payload": {"x": "y"}})
    assert any(word in str(refused.value) for word in ("not allowed", "exceed", "too large"))
    assert "\n" not in str(refused.value)


def test_huge_results_are_refused_in_when_expressions_too():
    with pytest.raises(templating.TemplateError, match="exceed"):
        templating.evaluate("('x' * 10**9) == ''", {})


@pytest.mark.parametrize(
    ("source", "expected"),
    [("{{ 'ab' * 3 }}", "ababab"), ("{{ 2 ** 10 }}", "1024"), ("{{ 2.5 * 4 }}", "10.0")],
)
def test_ordinary_arithmetic_still_works(source, expected):
    assert templating.render(source, {}) == expected


@pytest.mark.parametrize(
    "source",
    [
        "{{ ((10**10000) ** 10000) }}",
        "{{ (10**200000) * (10**200000) }}",
        "{{ '%09999999999d' % 1 }}",
        "{{ '%*d' % (4000000000, 1) }}",
        "{{ '%*d'|format(4000000000, 1) }}",
        "{{ '{:>4000000000}'.format(1) }}",
        "{{ 'a'|center(4000000000) }}",
        "{{ 'a\\nb'|indent(4000000000) }}",
    ],
)
def test_widths_and_big_numbers_are_refused(source):
    with pytest.raises(templating.TemplateError, match="not allowed|too large"):
        templating.render(source, {})


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ '%05d' % 42 }}", "00042"),
        ("{{ '%s-%s' % ('a', 'b') }}", "a-b"),
        ("{{ '{:>5}'.format('x') }}", "    x"),
        ("{{ 'x'|center(5) }}", "  x  "),
        ("{{ '%.1f'|format(2.25) }}", "2.2"),
        ("{{ 7 % 3 }}", "1"),
        ("{{ 'a\nb'|indent }}", "a\n    b"),
        ("{{ 'a\nb'|indent(2, first=true) }}", "  a\n  b"),
        ("{{ 'x'|center }}", " " * 39 + "x" + " " * 40),
        ("{{ 'a\nb'|indent(width=3) }}", "a\n   b"),
    ],
)
def test_ordinary_formatting_still_works(source, expected):
    assert templating.render(source, {}) == expected
