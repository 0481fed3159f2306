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
    assert "not allowed" in str(refused.value) or "exceed" in str(refused.value)
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
