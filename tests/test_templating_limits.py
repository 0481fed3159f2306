"""The template sandbox also bounds what `*` and `**` may build (memory and CPU), and the
bounded code is what the bytecode cache serves."""

import pytest

from apps.common import template_limits, templating


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


# --- bounded in time and memory (issue 14) ------------------------------------------------------

HOSTILE = {
    "nested loops": "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "loops over a list": "{% for a in items %}{% for b in items %}{% for c in items %}"
    "{% endfor %}{% endfor %}{% endfor %}",
    "appending big strings": "{% set l = [] %}{% for i in range(100000) %}"
    "{{ l.append('x' * 999999) }}{% endfor %}{{ l|length }}",
    "appending one payload string": "{% set l = [] %}{% for i in range(100000) %}"
    "{{ l.append(payload.big * 999) }}{% endfor %}{{ l|join|length }}",
    "quadratic concatenation": "{% set ns = namespace(s='') %}{% for i in range(100000) %}"
    "{% set ns.s = ns.s ~ 'abcdefghij' * 1000 %}{% endfor %}{{ ns.s|length }}",
    "doubling": "{% set ns = namespace(s='ab') %}{% for i in range(64) %}"
    "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "plus concatenation": "{% set ns = namespace(s='') %}{% for i in range(100000) %}"
    "{% set ns.s = ns.s + 'q' * 10000 %}{% endfor %}",
    "join of repeated references": "{{ ([payload.big] * 100000)|join }}",
    "join with a huge separator": "{{ items|join('z' * 900000) }}",
    "replace blow-up": "{{ ('a' * 900000)|replace('a', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb') }}",
    "method replace blow-up": "{{ ('a' * 900000).replace('a', 'b' * 1000) }}",
    "indent blow-up": "{{ ('\\n' * 900000)|indent(9999) }}",
    "huge output": "{% for i in range(100000) %}{{ payload.big }}{% endfor %}",
    "ljust width": "{{ 'x'.ljust(4000000000) }}",
    "recursion": "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
}


LIMIT_WORDS = ("steps", "characters", "deadline", "not allowed", "recursion", "output")


@pytest.mark.parametrize("source", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_templates_fail_in_bounded_time_and_memory(source):
    import resource
    import time

    context = {"items": list(range(2000)), "payload": {"big": "x" * 1000}}
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with pytest.raises(templating.TemplateError) as refused:
        templating.render(source, context)
    elapsed = time.monotonic() - started
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert elapsed < template_limits.MAX_RENDER_S + 1
    assert grown_mb < 400, f"peak memory grew by {grown_mb:.0f} MB"
    assert "\n" not in str(refused.value)
    assert any(word in str(refused.value) for word in LIMIT_WORDS), refused.value


def test_rendering_stops_at_the_node_deadline():
    import time

    source = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
    started = time.monotonic()
    limit = template_limits.deadline(time.monotonic() + 0.3)
    with limit, pytest.raises(templating.TemplateError, match="deadline|steps"):
        templating.render(source, {})
    assert time.monotonic() - started < 1.5


def test_a_when_expression_is_bounded_too():
    with pytest.raises(templating.TemplateError, match="characters|steps"):
        templating.evaluate("(['x' * 999999] * 1000)|join|length > 0", {})


def test_ordinary_loops_and_joins_still_render():
    source = (
        "{% for n in items %}{{ n }}{{ ',' if not loop.last }}{% endfor %}|{{ items|join('-') }}"
    )
    assert templating.render(source, {"items": [1, 2, 3]}) == "1,2,3|1-2-3"
    assert templating.render("{{ 'a' ~ 1 ~ 'b' }}{{ 1 + 2 }}{{ [1] + [2] }}", {}) == "a1b3[1, 2]"
    assert templating.render("{{ '<b>' ~ x }}", {"x": "<i>"}, html=True) == "&lt;b&gt;&lt;i&gt;"
