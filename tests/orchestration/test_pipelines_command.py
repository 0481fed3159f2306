"""manage.py pipelines: list, show, validate, import, export, graph, schema, diff."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.orchestration.models import PipelineDefinition, PipelineRun
from apps.orchestration.rules import schema as definition_schema

ROOT = Path(__file__).resolve().parents[2]

CONFIG = {
    "version": "1",
    "description": "Fan-out and fan-in",
    "nodes": [
        {
            "id": "start",
            "type": "transform",
            "config": {"mapping": {"server": "payload.server"}},
            "next": ["left", "right"],
        },
        {
            "id": "left",
            "type": "transform",
            "config": {"mapping": {"l": "nodes.start.output.server"}},
            "next": "join",
            "when": "payload.server == 'web-01'",
        },
        {
            "id": "right",
            "type": "context",
            "config": {"include": ["cpu"]},
            "next": "join",
            "required": False,
            "retries": 2,
        },
        {
            "id": "join",
            "type": "transform",
            "config": {"mapping": {"done": "{{ payload.server }}"}},
        },
    ],
}
INVALID = {
    "nodes": [
        {"id": "analyze", "type": "ai", "next": "notify"},
        {"id": "notify", "type": "notify", "config": {"driver": "console"}, "next": "missing"},
    ]
}


def first_words(out: str) -> list[str]:
    """The outcome line of a one-file import: action, name, version, path."""
    return out.splitlines()[0].split()


def pipelines(*args: str) -> str:
    out = StringIO()
    call_command("pipelines", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def failing(*args: str) -> tuple[str, str]:
    """Run a command that must fail; return (stdout, the CommandError message)."""
    out = StringIO()
    with pytest.raises(CommandError) as info:
        call_command("pipelines", *args, stdout=out, stderr=StringIO())
    message = str(info.value)
    assert "\n" not in message
    return out.getvalue(), message


def write(tmp_path, name: str, data) -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


@pytest.fixture
def stored(db):
    return PipelineDefinition.objects.create(name="fan", description="Fan", config=CONFIG)


# -- list -------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_list_is_an_aligned_table_with_the_last_run_status(stored):
    PipelineDefinition.objects.create(
        name="a-much-longer-name",
        config=CONFIG,
        is_active=False,
        match={"source": "grafana"},
        priority=5,
    )
    PipelineRun.objects.create(
        definition=stored, definition_name="fan", trace_id="t1", status="COMPLETED"
    )
    PipelineRun.objects.create(
        definition=stored, definition_name="fan", trace_id="t2", status="FAILED"
    )
    lines = pipelines("list").splitlines()
    header = lines[0]
    assert header.split() == ["NAME", "VERSION", "ACTIVE", "MATCH", "PRIORITY", "LAST", "RUN"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert rows["a-much-longer-name"].split() == [
        "a-much-longer-name",
        "1",
        "no",
        '{"source":"grafana"}',
        "5",
        "-",
    ]
    assert rows["fan"].split() == ["fan", "1", "yes", "-", "100", "FAILED"]  # the latest run
    for column in ("VERSION", "ACTIVE", "MATCH", "PRIORITY", "LAST RUN"):
        at = header.index(column)
        assert all(line[at - 2 : at] == "  " and line[at] != " " for line in lines[1:]), column


@pytest.mark.django_db
def test_list_with_nothing_stored_says_how_to_add():
    assert "pipelines import" in pipelines("list")


# -- show / graph -----------------------------------------------------------------------------
@pytest.mark.django_db
def test_show_prints_nodes_in_execution_order(stored):
    out = pipelines("show", "fan")
    assert out.startswith("Definition: fan v1 (active)\n")
    numbered = [
        line.strip() for line in out.splitlines() if line.strip()[:2] in {"1.", "2.", "3.", "4."}
    ]
    assert numbered == [
        "1. [transform] start",
        "2. [transform] left",
        "3. [context] right",
        "4. [transform] join",
    ]
    assert "→ next: left, right" in out
    assert "when: payload.server == 'web-01'" in out
    assert "required: no" in out and "retries: 2" in out
    assert "after: left, right" in out
    assert '"include": ["cpu"]' in out


@pytest.mark.django_db
def test_show_and_graph_take_a_file_path(tmp_path):
    path = write(tmp_path, "fan.json", CONFIG)
    assert pipelines("show", path).startswith(f"File: {path}\n")
    assert pipelines("graph", path, "--format", "dot").startswith('digraph "fan" {')


@pytest.mark.django_db
def test_graph_mermaid_and_dot(stored):
    mermaid = pipelines("graph", "fan").splitlines()
    assert mermaid[0] == "flowchart TD"
    assert '    n1["start<br/>transform"]' in mermaid
    assert '    n2{{"left<br/>transform"}}' in mermaid  # a conditional node
    assert "    n1 -->|\"when: payload.server == 'web-01'\"| n2" in mermaid
    assert "    n3 --> n4" in mermaid and "    n2 --> n4" in mermaid
    dot = pipelines("graph", "fan", "--format", "dot")
    assert '"start" -> "right";' in dot
    assert '"right" [label="right\\ncontext", style=dashed];' in dot
    assert dot.rstrip().endswith("}")


@pytest.mark.django_db
def test_every_drawing_marks_a_disabled_node(tmp_path):
    config = {
        "nodes": [
            {"id": "a", "type": "context", "next": "b"},
            {"id": "b", "type": "context", "enabled": False},
        ]
    }
    path = write(tmp_path, "off.json", config)
    assert "     enabled: no" in pipelines("show", path)
    assert '    n2["b<br/>context<br/>(disabled)"]' in pipelines("graph", path)
    dot = pipelines("graph", path, "--format", "dot")
    assert '"b" [label="b\\ncontext", color=gray, fontcolor=gray];' in dot
    svg = pipelines("graph", path, "--format", "svg")
    assert svg.count('fill="#f5f5f5"') == 1


@pytest.mark.django_db
def test_graph_of_an_invalid_or_unknown_definition_is_a_one_line_error(tmp_path):
    PipelineDefinition.objects.create(name="broken", config=INVALID)
    _, message = failing("graph", "broken")
    assert message.startswith("Cannot draw broken: Node 'analyze' has unknown type: ai")
    _, message = failing("show", "nope")
    assert message == "Cannot show nope: Pipeline definition not found: nope"
    _, message = failing("graph", str(tmp_path / "missing.json"))
    assert "File not found" in message


# -- validate ---------------------------------------------------------------------------------
@pytest.mark.django_db
def test_validate_names_and_files_json(stored, tmp_path):
    good = write(tmp_path, "good.json", CONFIG)
    bad = write(tmp_path, "bad.json", INVALID)
    out, message = failing(
        "validate", "fan", good, bad, "unknown-name", str(tmp_path / "gone.json"), "--json"
    )
    assert message == "3 of 5 definition(s) invalid"
    results = json.loads(out)
    assert [(r["target"], r["valid"]) for r in results] == [
        ("fan", True),
        (good, True),
        (bad, False),
        ("unknown-name", False),
        (str(tmp_path / "gone.json"), False),
    ]
    problems = results[2]["problems"]
    assert {
        "code": "unknown_type",
        "node": "analyze",
        "path": "/nodes/0/type",
        "message": "Node 'analyze' has unknown type: ai",
    } in problems
    assert {
        "code": "missing_next",
        "node": "notify",
        "path": "/nodes/1/next",
        "message": "Node 'notify' references non-existent next: 'missing'",
    } in problems
    assert all(
        set(p) == {"code", "node", "path", "message"} for r in results for p in r["problems"]
    )
    assert results[3]["problems"][0]["code"] == "not_found"
    assert results[4]["problems"][0]["code"] == "not_found"


@pytest.mark.django_db
def test_validate_all_valid_exits_zero_and_prints_text(stored, tmp_path):
    out = pipelines("validate", "fan", write(tmp_path, "x.json", CONFIG))
    assert out.splitlines() == ["✓ fan: valid", f"✓ {tmp_path}/x.json: valid"]


@pytest.mark.django_db
def test_validate_text_lists_each_problem_with_its_pointer(tmp_path):
    out, _ = failing("validate", write(tmp_path, "bad.json", INVALID))
    assert "✗" in out and "2 problem(s)" in out
    assert "  - Node 'analyze' has unknown type: ai [/nodes/0/type]" in out


@pytest.mark.django_db
def test_validate_export_format_files(stored, tmp_path):
    exported = pipelines("export", "fan")
    assert pipelines("validate", write(tmp_path, "exported.json", exported)).startswith("✓")


@pytest.mark.parametrize("content", ["", "{", "[]", "null", '"x"', '{"nodes": 5}', "\ufeff{}"])
@pytest.mark.django_db
def test_validate_bad_files_are_reported_not_raised(tmp_path, content):
    out, _ = failing("validate", "--json", write(tmp_path, "bad.json", content))
    result = json.loads(out)[0]
    assert result["valid"] is False and result["problems"]


# -- import / export --------------------------------------------------------------------------
@pytest.mark.django_db
def test_import_the_shipped_pipelines_is_idempotent(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    first = pipelines("import", "pipelines/*.json")
    assert "  created  health-check  v1  pipelines/health-check.json" in first
    shipped = json.loads((ROOT / "pipelines/health-check.json").read_text())
    stored = PipelineDefinition.objects.get(name="health-check")
    assert stored.config == shipped and stored.version == 1
    second = pipelines("import", "pipelines/*.json")
    assert "  unchanged  health-check  v1  pipelines/health-check.json" in second
    assert second.splitlines()[-1].endswith(
        f"0 created, 0 updated, {len(list(ROOT.glob('pipelines/*.json')))} unchanged"
    )
    assert PipelineDefinition.objects.get(name="health-check").version == 1


@pytest.mark.django_db
def test_import_reports_created_updated_unchanged(tmp_path):
    path = write(tmp_path, "fan.json", CONFIG)
    assert first_words(pipelines("import", path)) == ["created", "fan", "v1", path]
    assert first_words(pipelines("import", path)) == ["unchanged", "fan", "v1", path]
    write(tmp_path, "fan.json", {**CONFIG, "defaults": {"retries": 1}})
    out = pipelines("import", path)
    assert first_words(out) == ["updated", "fan", "v2", path, "changed:", "config"]
    definition = PipelineDefinition.objects.get(name="fan")
    assert definition.version == 2
    assert definition.revisions.get().config == CONFIG


@pytest.mark.django_db
def test_import_validates_every_file_first_and_stores_nothing_if_one_is_invalid(tmp_path):
    good = write(tmp_path, "good.json", CONFIG)
    bad = write(tmp_path, "bad.json", INVALID)
    out, message = failing("import", good, bad)
    assert message == "Nothing imported: 1 of 2 file(s) invalid"
    assert "Node 'analyze' has unknown type: ai" in out
    assert not PipelineDefinition.objects.exists()


@pytest.mark.django_db
def test_import_leaves_a_stored_definition_alone_when_the_new_file_is_invalid(stored, tmp_path):
    failing("import", write(tmp_path, "fan.json", INVALID))
    stored.refresh_from_db()
    assert stored.config == CONFIG and stored.version == 1


@pytest.mark.django_db
def test_import_missing_files_patterns_and_duplicate_names(tmp_path):
    _, message = failing("import", str(tmp_path / "nope.json"))
    assert message == "Nothing imported: 1 of 1 file(s) invalid"
    out, _ = failing("import", str(tmp_path / "zz*.json"))
    assert "No file matches" in out
    (tmp_path / "b").mkdir()
    one = write(tmp_path, "fan.json", CONFIG)
    two = write(tmp_path / "b", "fan.json", CONFIG)
    out, _ = failing("import", one, two)
    assert "also defined in" in out
    assert not PipelineDefinition.objects.exists()


@pytest.mark.django_db
def test_export_import_export_is_byte_exact(tmp_path):
    PipelineDefinition.objects.create(
        name="fan",
        description='Ünïcode ✓ "quoted"',
        config=CONFIG,
        match={"source": ["grafana"]},
        priority=3,
        is_active=False,
    )
    first = pipelines("export", "fan")
    document = json.loads(first)
    assert list(document) == ["name", "description", "match", "priority", "is_active", "config"]
    PipelineDefinition.objects.all().delete()
    path = write(tmp_path, "fan-export.json", first)
    assert first_words(pipelines("import", path))[0] == "created"
    assert pipelines("export", "fan") == first
    assert first_words(pipelines("import", path))[0] == "unchanged"
    assert PipelineDefinition.objects.get().version == 1


@pytest.mark.django_db
def test_export_unknown_name():
    assert failing("export", "nope")[1] == "Pipeline definition not found: nope"


# -- schema / diff ----------------------------------------------------------------------------
def test_schema_prints_the_definition_schema():
    schema = json.loads(pipelines("schema"))
    assert schema == definition_schema()
    node = schema["$defs"]["NodeSpec"]
    assert {
        "id",
        "type",
        "config",
        "next",
        "required",
        "when",
        "retries",
        "retry_backoff_s",
        "timeout_s",
    } <= set(node["properties"])
    assert node["additionalProperties"] is False


@pytest.mark.django_db
def test_diff_between_revisions_and_the_current_version(stored):
    stored.config = {**CONFIG, "description": "Second"}
    stored.save()
    stored.config = {**CONFIG, "description": "Third"}
    stored.save()
    assert stored.version == 3
    out = pipelines("diff", "fan", "1", "3")
    assert out.splitlines()[:2] == ["--- fan v1", "+++ fan v3"]
    assert '-  "description": "Fan-out and fan-in",' in out
    assert '+  "description": "Third",' in out
    assert "Second" not in out
    assert pipelines("diff", "fan", "2", "2") == "No differences between v2 and v2\n"


@pytest.mark.django_db
def test_diff_errors(stored):
    assert failing("diff", "fan", "1", "9")[1] == "Version 9 of fan not found (known: 1)"
    assert failing("diff", "nope", "1", "2")[1] == "Pipeline definition not found: nope"


def test_a_missing_subcommand_is_an_error():
    with pytest.raises(CommandError):
        call_command("pipelines", stdout=StringIO(), stderr=StringIO())
