"""QA pass on issue 15: a definition's JSON null/true/false are shown as JSON spells them in
validation errors, never as Python's None/True/False."""

import pytest

from apps.orchestration.definition import validate_definition

NODE = {"id": "a", "type": "transform"}


def messages(config):
    return [problem.message for problem in validate_definition(config)]


@pytest.mark.parametrize(
    ("version", "shown"), [(None, "null"), (True, "true"), (False, "false"), ("2", "2")]
)
def test_an_unsupported_version_is_shown_as_json(version, shown):
    found = messages({"version": version, "nodes": [NODE]})
    assert f"Unsupported version: '{shown}' (supported: 1)" in found
    assert not any(word in message for message in found for word in ("None", "True", "False"))


def test_a_boolean_node_type_is_shown_as_json():
    found = " | ".join(messages({"nodes": [{"id": "a", "type": False}, {"id": "b", "type": None}]}))
    assert "Node 'a' has unknown type: false" in found
    assert "Node 'b' has unknown type: null" in found or "Node 'b' is missing 'type'" in found
    assert "True" not in found and "False" not in found
