"""Import/export of definitions: both file formats, validation first, versions only on change."""

import json

import pytest

from apps.orchestration import portability
from apps.orchestration.models import PipelineDefinition, PipelineDefinitionRevision

CONFIG = {
    "version": "1",
    "description": "Two transforms",
    "nodes": [
        {
            "id": "first",
            "type": "transform",
            "config": {"mapping": {"server": "payload.server"}},
            "next": "second",
        },
        {
            "id": "second",
            "type": "transform",
            "config": {"mapping": {"line": "Host {{ nodes.first.output.server }} — ünïcode"}},
        },
    ],
}


def write(tmp_path, name: str, data) -> str:
    path = tmp_path / name
    path.write_text(
        data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8"
    )
    return str(path)


@pytest.mark.django_db
def test_bare_config_is_named_after_the_file_stem(tmp_path):
    document, problems = portability.load_file(write(tmp_path, "web-checks.json", CONFIG))
    assert problems == []
    outcome = portability.store(document)
    assert outcome.action == "created"
    stored = PipelineDefinition.objects.get(name="web-checks")
    assert stored.config == CONFIG
    assert stored.description == "Two transforms"
    assert stored.version == 1


@pytest.mark.django_db
def test_export_document_has_exactly_the_export_keys():
    definition = PipelineDefinition.objects.create(
        name="routed",
        description="d",
        config=CONFIG,
        match={"source": "grafana"},
        priority=5,
        is_active=False,
    )
    document = portability.export_document(definition)
    assert list(document) == ["name", "description", "match", "priority", "is_active", "config"]
    assert document["match"] == {"source": "grafana"}
    assert document["is_active"] is False


@pytest.mark.django_db
def test_export_import_export_round_trip_is_byte_exact_and_unchanged(tmp_path):
    PipelineDefinition.objects.create(
        name="routed",
        description="Ünïcode ✓",
        config=CONFIG,
        match={"severity": ["critical"]},
        priority=7,
    )
    first = portability.dumps(portability.export_document(PipelineDefinition.objects.get()))
    PipelineDefinition.objects.all().delete()
    path = write(tmp_path, "any-name.json", first)

    created = portability.store(portability.load_file(path)[0])
    assert created.action == "created"
    assert created.definition.name == "routed"  # the name inside wins over the file stem
    second = portability.dumps(portability.export_document(PipelineDefinition.objects.get()))
    assert second == first
    again = portability.store(portability.load_file(path)[0])
    assert again.action == "unchanged"


@pytest.mark.django_db
def test_only_a_config_change_makes_a_new_version(tmp_path):
    definition = PipelineDefinition.objects.create(name="p", config=CONFIG, priority=100)
    document = portability.export_document(definition)

    document["priority"] = 10
    outcome = portability.store(portability.load_file(write(tmp_path, "p.json", document))[0])
    assert (outcome.action, outcome.changed) == ("updated", ["priority"])
    assert PipelineDefinition.objects.get().version == 1

    document["config"] = {**CONFIG, "description": "changed"}
    outcome = portability.store(portability.load_file(write(tmp_path, "p.json", document))[0])
    assert outcome.action == "updated"
    assert "config" in outcome.changed
    stored = PipelineDefinition.objects.get()
    assert stored.version == 2
    assert PipelineDefinitionRevision.objects.get(definition=stored, version=1).config == CONFIG


@pytest.mark.django_db
def test_bare_config_update_keeps_the_settings_made_elsewhere(tmp_path):
    PipelineDefinition.objects.create(
        name="p", config=CONFIG, is_active=False, priority=3, match={"source": "grafana"}
    )
    changed = {**CONFIG, "defaults": {"retries": 1}}
    outcome = portability.store(portability.load_file(write(tmp_path, "p.json", changed))[0])
    assert outcome.action == "updated"
    stored = PipelineDefinition.objects.get()
    assert (stored.is_active, stored.priority, stored.match) == (False, 3, {"source": "grafana"})
    assert stored.config == changed


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "invalid_json"),
        ("{not json", "invalid_json"),
        ("[1, 2]", "invalid_definition"),
        ('"just a string"', "invalid_definition"),
        ('{"nodes": []}', "no_nodes"),
    ],
)
@pytest.mark.django_db
def test_bad_files_are_problems_not_exceptions(tmp_path, text, code):
    document, problems = portability.load_file(write(tmp_path, "bad.json", text))
    assert document is None
    assert [p.code for p in problems] == [code]


@pytest.mark.django_db
def test_missing_file_and_non_utf8_file(tmp_path):
    assert portability.load_file(str(tmp_path / "nope.json"))[1][0].code == "not_found"
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe{}")
    assert portability.load_file(str(binary))[1][0].code == "unreadable"


@pytest.mark.django_db
def test_export_format_fields_are_checked_and_config_paths_point_inside_config(tmp_path):
    bad = {
        "name": "bad name!",
        "priority": "high",
        "is_active": "yes",
        "match": {"colour": "red"},
        "owner": "me",
        "config": {"nodes": [{"id": "a", "type": "ai"}]},
    }
    document, problems = portability.load_file(write(tmp_path, "bad.json", bad))
    assert document is None
    by_path = {p.path: p for p in problems}
    assert set(by_path) >= {
        "/name",
        "/priority",
        "/is_active",
        "/match",
        "/owner",
        "/config/nodes/0/type",
    }
    assert by_path["/config/nodes/0/type"].message == "Node 'a' has unknown type: ai"
    assert by_path["/config/nodes/0/type"].node == "a"


@pytest.mark.django_db
def test_a_file_stem_that_is_not_a_valid_name_is_a_problem(tmp_path):
    document, problems = portability.load_file(write(tmp_path, "my pipeline.json", CONFIG))
    assert document is None
    assert problems[0].code == "invalid_name"
