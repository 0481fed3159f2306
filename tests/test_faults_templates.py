"""Fault injection for templates: rendering counts against the node's deadline and budget, so
a hostile definition (written with the `write` scope) fails its node in bounded time and the
run goes on; ordinary templates are untouched."""

import time

import pytest

from apps.orchestration.definition_orchestrator import DefinitionBasedOrchestrator
from apps.orchestration.models import PipelineDefinition

pytestmark = pytest.mark.django_db

SLOW_BUT_SMALL = (
    "{% for i in range(100000) %}{{ payload.text|wordcount }}{{ payload.text|wordcount }}"
    "{% endfor %}"
)
HUGE = "{% set l = [] %}{% for i in range(100000) %}{{ l.append('x' * 999999) }}{% endfor %}"
PAYLOAD = {"text": "word " * 20000}


def execute(nodes):
    config = {"version": "1", "nodes": nodes}
    definition = PipelineDefinition.objects.create(name="hostile", config=config)
    orchestrator = DefinitionBasedOrchestrator(definition)
    assert orchestrator.validate() == []
    return orchestrator.execute(PAYLOAD)


def by_id(result):
    return {node["id"]: node for node in result["nodes"]}


def transform(node_id, mapping, **extra):
    return {"id": node_id, "type": "transform", "config": {"mapping": mapping}, **extra}


@pytest.mark.parametrize(
    ("template", "reason"), [(SLOW_BUT_SMALL, "deadline"), (HUGE, "characters")]
)
def test_a_hostile_template_fails_its_node_within_the_deadline(template, reason):
    started = time.monotonic()
    result = execute(
        [
            transform("start", {"t": "payload.text"}, next=["evil", "fine"]),
            transform("evil", {"x": template}, timeout_s=1, required=False),
            transform("fine", {"n": "{{ 1 + 1 }}"}),
        ]
    )
    elapsed = time.monotonic() - started
    assert elapsed < 3, f"the run took {elapsed:.1f}s under timeout_s: 1"
    evil = by_id(result)["evil"]
    assert evil["status"] == "FAILED"
    assert reason in evil["error"]
    assert "\n" not in evil["error"]
    assert by_id(result)["fine"]["output"] == {"n": "2"}


def test_a_hostile_when_condition_fails_its_node_in_bounded_time():
    started = time.monotonic()
    when = "([payload.text] * 100000)|join|length > 0"
    result = execute([transform("guarded", {"n": "payload.text"}, timeout_s=1, when=when)])
    assert time.monotonic() - started < 3
    node = by_id(result)["guarded"]
    assert node["status"] == "FAILED"
    assert "characters" in node["error"]
