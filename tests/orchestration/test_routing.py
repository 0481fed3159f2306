"""apps.orchestration.routing: match conditions, priority order, inactive and empty matches."""

import pytest

from apps.orchestration import routing
from apps.orchestration.models import PipelineDefinition

pytestmark = pytest.mark.django_db


def define(name, match, priority=100, active=True):
    return PipelineDefinition.objects.create(
        name=name, match=match, priority=priority, is_active=active, config={}
    )


@pytest.mark.parametrize(
    ("match", "source", "severity", "labels", "matches"),
    [
        ({"source": "grafana"}, "grafana", "info", {}, True),
        ({"source": "grafana"}, "alertmanager", "info", {}, False),
        ({"source": ["grafana", "zabbix"]}, "zabbix", "info", {}, True),
        ({"severity": ["critical", "warning"]}, "x", "warning", {}, True),
        ({"severity": ["critical"]}, "x", "warning", {}, False),
        ({"severity": "critical"}, "x", "critical", {}, True),
        ({"labels": {"team": "db"}}, "x", "info", {"team": "db"}, True),
        ({"labels": {"team": "db"}}, "x", "info", {"team": "web"}, False),
        ({"labels": {"team": ""}}, "x", "info", {}, False),  # a missing label is not ""
        ({"labels_regex": {"instance": "^web-"}}, "x", "info", {"instance": "web-01:9100"}, True),
        ({"labels_regex": {"instance": "^web-"}}, "x", "info", {"instance": "db-01"}, False),
        ({"labels_regex": {"instance": ".*"}}, "x", "info", {}, False),
        (
            {"source": "grafana", "severity": ["critical"], "labels": {"team": "db"},
             "labels_regex": {"instance": "^db-"}},
            "grafana", "critical", {"team": "db", "instance": "db-7"}, True,
        ),
        (
            {"source": "grafana", "severity": ["critical"], "labels": {"team": "db"},
             "labels_regex": {"instance": "^db-"}},
            "grafana", "warning", {"team": "db", "instance": "db-7"}, False,
        ),
    ],
)  # fmt: skip
def test_all_given_conditions_must_hold(match, source, severity, labels, matches):
    assert (routing.mismatch(match, source, severity, labels) == "") is matches


def test_priority_then_name_decides():
    define("b-second", {"source": "grafana"}, priority=10)
    define("a-first", {"source": "grafana"}, priority=10)
    define("low", {"source": "grafana"}, priority=1, active=False)
    define("later", {"source": "grafana"}, priority=50)
    assert routing.choose("grafana", "info", {}).definition.name == "a-first"


def test_no_match_or_empty_match_is_never_routed():
    define("null-match", None, priority=1)
    define("empty-match", {}, priority=1)
    route = routing.choose("grafana", "critical", {})
    assert route.definition is None
    assert route.name == "standard (built-in)"


def test_invalid_match_is_skipped_and_explained():
    define("broken", {"labels_regex": {"x": "("}, "colour": "red"}, priority=1)
    define("ok", {"source": "grafana"}, priority=2)
    assert routing.choose("grafana", "info", {"x": "("}).definition.name == "ok"
    problems = routing.match_problems({"labels_regex": {"x": "("}, "colour": "red"})
    assert any("unknown match key 'colour'" in p for p in problems)
    assert any("not a valid regex" in p for p in problems)
    assert routing.match_problems(["source"]) == ["match must be a JSON object, got list"]
    assert routing.match_problems({"severity": 3}) == [
        "match.severity must be a string or a list of strings"
    ]


def test_a_match_on_host_uses_the_resolved_name():
    match = {"host": ["web-07", "web-08"]}
    assert routing.match_problems(match) == []
    assert (
        routing.mismatch(match, "alertmanager", "critical", {"instance": "web-07:9100"}, "web-07")
        == ""
    )
    assert "host 'db-1'" in routing.mismatch(match, "alertmanager", "critical", {}, "db-1")
    assert routing.match_problems({"host": 7}) == [
        "match.host must be a string or a list of strings"
    ]
