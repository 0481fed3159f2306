"""validate() reports every problem, one clear line each, and never raises."""

import json
from pathlib import Path

import jsonschema
import pytest

from apps.orchestration.definition import validate_definition
from apps.orchestration.definition_orchestrator import DefinitionBasedOrchestrator
from apps.orchestration.models import PipelineDefinition
from apps.orchestration.rules import schema
from apps.orchestration.spec import build_plan

ROOT = Path(__file__).resolve().parents[2]


def problems(config):
    return [p.message for p in validate_definition(config)]


def node(node_id, node_type="transform", nxt=None, **extra):
    item = {"id": node_id, "type": node_type, "config": {"mapping": {"v": "payload.x"}}, **extra}
    if nxt is not None:
        item["next"] = nxt
    return item


def test_valid_definition_has_no_problems():
    assert problems({"nodes": [node("a", nxt="b"), node("b")]}) == []


@pytest.mark.parametrize(
    "config, expected",
    [
        ({"nodes": []}, "Definition has no nodes"),
        ({}, "Definition has no nodes"),
        ([], "Definition must be a JSON object"),
        ("text", "Definition must be a JSON object"),
        ({"nodes": [node("a")], "extra": 1}, "Unknown top-level key: 'extra'"),
        ({"version": "2", "nodes": [node("a")]}, "Unsupported version: '2' (supported: 1)"),
        ({"nodes": [node("a"), node("a")]}, "Duplicate node id: 'a'"),
        ({"nodes": [{"type": "transform"}]}, "Node #1 is missing 'id'"),
        ({"nodes": [{"id": "a"}]}, "Node 'a' is missing 'type'"),
        ({"nodes": [node("a", colour="red")]}, "Node 'a' has unknown key: 'colour'"),
        (
            {"nodes": [node("a", nxt="b"), node("b", nxt="a")]},
            "Cycle detected between nodes: a -> b -> a",
        ),
        ({"nodes": [node("a"), node("b")]}, "Node 'b' is unreachable from entry node 'a'"),
        (
            {"nodes": [node("a", retries=-1)]},
            "Node 'a' has invalid 'retries': must be an integer from 0 to 10, got -1",
        ),
        ({"nodes": [node("a", when="payload.x ==")]}, "Node 'a' has invalid when"),
        (
            {
                "nodes": [
                    {
                        "id": "a",
                        "type": "transform",
                        "config": {"mapping": {"v": "nodes.zz.output"}},
                    }
                ]
            },
            "references unknown node 'zz'",
        ),
        (
            {"nodes": [{"id": "a", "type": "transform", "config": "x"}]},
            "Node 'a' config must be a JSON object",
        ),
        (
            {"nodes": [{"id": "a", "type": "context", "config": {"include": ["cpu", "nosuch"]}}]},
            "Node 'a' config: ",
        ),
        (
            {"nodes": [{"id": "a", "type": "intelligence", "config": {"provider": "skynet"}}]},
            "Node 'a' config: ",
        ),
        (
            {"nodes": [{"id": "a", "type": "notify", "config": {"driver": "carrier-pigeon"}}]},
            "Node 'a' config: ",
        ),
        (
            {
                "nodes": [
                    {"id": "a", "type": "transform", "config": {"mapping": {"v": "{{ payload.x"}}}
                ]
            },
            "template syntax error",
        ),
    ],
)
def test_each_problem_is_reported(config, expected, db):
    found = problems(config)
    assert any(expected in message for message in found), found
    assert all("\n" not in message for message in found)


def test_cycle_names_its_nodes_among_others():
    config = {"nodes": [node("start", nxt="x"), node("x", nxt="y"), node("y", nxt="x")]}
    assert "Cycle detected between nodes: x -> y -> x" in problems(config)


def test_every_problem_at_once(db):
    config = {
        "nodes": [
            {"id": "metrics", "type": "context", "config": {"include": ["cpu"]}, "next": "analyze"},
            {"id": "analyze", "type": "ai", "next": "notify"},
            {"id": "notify", "type": "notify", "config": {"driver": "console"}, "next": "missing"},
            {"id": "notify", "type": "transform"},
        ]
    }
    found = problems(config)
    assert "Node 'analyze' has unknown type: ai" in found
    assert "Node 'notify' references non-existent next: 'missing'" in found
    assert "Duplicate node id: 'notify'" in found


@pytest.mark.parametrize(
    "junk",
    [
        None,
        3,
        [1, 2],
        {"nodes": "x"},
        {"nodes": [1, "a", None]},
        {"nodes": [{"id": 5, "type": 7, "next": {"a": 1}}]},
    ],
)
def test_never_raises_on_junk(junk, db):
    definition = PipelineDefinition(name="junk", config=junk)
    found = DefinitionBasedOrchestrator(definition).validate()
    assert found and all(isinstance(m, str) for m in found)


def test_problem_has_code_node_and_json_pointer():
    problem = validate_definition({"nodes": [node("a", nxt="zz")]})[0]
    assert problem.as_dict() == {
        "code": "missing_next",
        "node": "a",
        "path": "/nodes/0/next",
        "message": "Node 'a' references non-existent next: 'zz'",
    }


def test_json_schema_comes_from_the_field_rules():
    generated = schema()
    assert generated["title"] == "Pipeline definition"
    node_props = generated["$defs"]["NodeSpec"]["properties"]
    assert {"id", "type", "config", "next", "required", "when", "retries", "timeout_s"} <= set(
        node_props
    )
    assert node_props["retries"]["anyOf"][0] == {"type": "integer", "minimum": 0, "maximum": 10}
    timeout = generated["$defs"]["Defaults"]["properties"]["timeout_s"]
    assert (timeout["exclusiveMinimum"], timeout["maximum"], timeout["default"]) == (0, 3600, 30.0)


@pytest.mark.parametrize("path", sorted((ROOT / "pipelines").glob("*.json")), ids=lambda p: p.name)
def test_shipped_definitions_conform_to_the_json_schema(path):
    jsonschema.validate(json.loads(path.read_text()), schema())


@pytest.mark.parametrize(
    "good",
    [
        {"version": 1, "nodes": [{"id": "a", "type": "transform", "config": {"mapping": {"x": "payload.x"}}}]},
        {"nodes": [{"id": "a", "type": "context", "config": None, "next": None, "retries": None}]},
        {"nodes": [{"id": "a", "type": "context", "retries": 2.0, "timeout_s": 5}]},
        {"nodes": [{"id": "a", "type": "context", "enabled": False, "required": False}],
         "defaults": {"retries": 1.0, "retry_backoff_s": 0, "timeout_s": 0.5}},
    ],
)  # fmt: skip
def test_json_schema_and_validation_accept_the_same_definitions(good):
    jsonschema.validate(good, schema())
    assert validate_definition(good) == []
    plan = build_plan(good)  # and the engine can take it
    node = plan.nodes["a"]
    assert node.retries is None or isinstance(node.retries, int)
    assert isinstance(plan.spec.defaults.retries, int)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"nodes": [{"id": "a", "type": "context", "retries": 10**400}]},
         "Node 'a' has invalid 'retries': must be an integer from 0 to 10, got 10000000000000000..."),
        ({"nodes": [{"id": "a", "type": "context", "timeout_s": "5"}]},
         "Node 'a' has invalid 'timeout_s': must be a number greater than 0 and at most 3600, "
         "not a string"),
        ({"nodes": [{"id": "a\n", "type": "context"}]},
         "Node 'a\\n' has an invalid id (1 to 100 letters, digits, _ . -, not starting with . or -)"),
        ({"nodes": [{"id": "a", "type": "x\ny"}]}, "Node 'a' has unknown type: x\\ny"),
        ({"nodes": [{"id": "a", "type": "t" * 100_000}]},
         "Node 'a' has unknown type: " + "t" * 117 + "..."),
        ({"nodes": [{"id": "a", "type": "context", "next": "m\u2028"}]},
         "Node 'a' references non-existent next: 'm\\u2028'"),
        ({"nodes": [{"id": "a", "type": "context", "retries": 10**5000}]},
         "Node 'a' has invalid 'retries': must be an integer from 0 to 10, got a number too large to show"),
        ({"nodes": [{"id": "a", "type": "context"}], "defaults": {"retries": None}},
         "Invalid defaults.retries: must be an integer from 0 to 10, not null"),
    ],
)  # fmt: skip
def test_field_problems_are_one_line_each_and_do_not_hide_others(config, message):
    config["nodes"][0]["enabled"] = "no"  # a second problem, reported too
    messages = [problem.message for problem in validate_definition(config)]
    assert message in messages
    assert any("'enabled'" in m for m in messages)
    assert all("\n" not in m and len(m) < 300 for m in messages)


def test_version_one_as_a_number_is_version_one():
    config = {"version": 1.0, "nodes": [{"id": "a", "type": "context"}]}
    assert validate_definition(config) == []
    jsonschema.validate(config, schema())
    assert build_plan(config).spec.version == "1"


@pytest.mark.parametrize(
    "bad",
    [
        {"nodes": []},
        {"nodes": [{"id": "a"}]},
        {"nodes": [{"id": "a", "type": "transform", "retries": -1}]},
        {"nodes": [{"id": "a", "type": "transform", "retries": 2.5}]},
        {"nodes": [{"id": "a", "type": "transform", "timeout_s": 0}]},
        {"nodes": [{"id": "a", "type": "transform", "next": 3}]},
        {"nodes": [{"id": "a", "type": "transform", "required": "yes"}]},
        {"nodes": [{"id": "a", "type": "transform", "enabled": 0}]},
        {"nodes": [{"id": "a", "type": "transform", "colour": "red"}]},
        {"nodes": [{"id": "a", "type": "transform"}], "defaults": {"retries": 11}},
        {"nodes": [{"id": "a", "type": "transform"}], "extra": 1},
    ],
)
def test_json_schema_and_validation_refuse_the_same_fields(bad):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema())
    assert validate_definition(bad)
