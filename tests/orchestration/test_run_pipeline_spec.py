"""run_pipeline as ../shared/spec/run-pipeline-definitions.md specifies it, to the letter."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError

from apps.orchestration.models import PipelineDefinition, PipelineRun, StageExecution

from .conftest import TRANSFORM_CONFIG

ROOT = Path(__file__).resolve().parents[2]

SPEC_DRY_RUN = """=== DRY RUN ===

Pipeline Definition: health-check
Source: cli
Environment: development

Nodes (3):
  1. [context] metrics
     Config: {"include": ["cpu", "memory", "disk"]}
     → next: analyze

  2. [intelligence] analyze
     Config: {"provider": "openai"}
     → next: notify

  3. [notify] notify
     Config: {"driver": "slack"}
     → end

Payload:
{
  "server": "web-01"
}

Use without --dry-run to execute
"""

pytestmark = pytest.mark.django_db


def test_dry_run_block_is_the_spec_block(run_cmd, spec_definition):
    ran = run_cmd("--definition", "health-check", "--payload", '{"server": "web-01"}', "--dry-run")
    assert ran.out == SPEC_DRY_RUN  # exactly the block of the spec
    assert PipelineRun.objects.count() == 0


def test_dry_run_json_of_a_config_file(run_cmd, config_file):
    path = config_file(TRANSFORM_CONFIG)
    document = run_cmd(
        "--config", path, "--payload", '{"server": "a"}', "--dry-run", "--json"
    ).json()
    assert document["config_path"] == path
    assert document["payload"] == {"server": "a"}
    assert [step["id"] for step in document["plan"]] == ["a", "b", "c"]
    assert document["notifications"] == []
    assert PipelineRun.objects.count() == 0


def test_dry_run_of_config_file_names_the_file(run_cmd, config_file):
    from .conftest import SPEC_CONFIG

    path = config_file(SPEC_CONFIG)
    ran = run_cmd("--config", path, "--payload", '{"server": "web-01"}', "--dry-run")
    assert ran.out == SPEC_DRY_RUN.replace(
        "Pipeline Definition: health-check", f"Pipeline Config: {path}"
    )


def test_dry_run_prints_the_block_exactly_and_the_rendered_notifications_on_stderr(
    run_cmd, config_file
):
    config = {
        "nodes": [
            {
                "id": "tell",
                "type": "notify",
                "config": {"driver": "console", "title": "Disk on {{ payload.server }}"},
            }
        ]
    }
    ran = run_cmd("--config", config_file(config), "--payload", '{"server": "db-9"}', "--dry-run")
    assert ran.out.endswith("Use without --dry-run to execute\n")
    assert "Notifications that would be sent:" not in ran.out
    assert "Notifications that would be sent:" in ran.err and "Disk on db-9" in ran.err
    assert PipelineRun.objects.count() == 0


RESULT_RE = re.compile(
    r"^={60}\nPIPELINE RESULT\n={60}\n\nStatus: COMPLETED\nConfig: (?P<path>.+)\n"
    r"Trace ID: (?P<trace>.+)\nRun ID: (?P<run>\d+)\nDuration: \d+\.\d{2}ms\n\n"
    r"--- transform \(a\) ---\n  Keys: server\n  Duration: \d+\.\d{2}ms\n\n"
    r"--- transform \(b\) ---\n  Keys: host, line\n  Duration: \d+\.\d{2}ms\n\n"
    r"--- transform \(c\) ---\n  Keys: final\n  Duration: \d+\.\d{2}ms\n\n"
    r"✓ Pipeline completed successfully\n$"
)


def test_result_block_layout(run_cmd, config_file):
    path = config_file(TRANSFORM_CONFIG)
    ran = run_cmd("--config", path, "--payload", '{"server": "web-01"}', "--trace-id", "abc-123")
    match = RESULT_RE.match(ran.out)
    assert match, ran.out
    assert match["path"] == path and match["trace"] == "abc-123"
    run = PipelineRun.objects.get()
    assert int(match["run"]) == run.pk
    assert run.status == "COMPLETED" and run.config_path == path and run.trace_id == "abc-123"


def test_definition_result_shows_definition_name(run_cmd, db):
    PipelineDefinition.objects.create(name="xf", config=TRANSFORM_CONFIG)
    ran = run_cmd("--definition", "xf", "--payload", '{"server": "web-01"}')
    assert "\nDefinition: xf\n" in ran.out


def test_json_shape_and_records(run_cmd, config_file):
    ran = run_cmd(
        "--config",
        config_file(TRANSFORM_CONFIG),
        "--payload",
        '{"server": "web-01"}',
        "--json",
        "--environment",
        "staging",
    )
    result = ran.json()
    assert set(result) >= {
        "run_id",
        "trace_id",
        "status",
        "definition",
        "config_path",
        "definition_version",
        "source",
        "environment",
        "incident_id",
        "started_at",
        "finished_at",
        "duration_ms",
        "error",
        "nodes",
    }
    assert result["status"] == "COMPLETED" and result["environment"] == "staging"
    assert [n["id"] for n in result["nodes"]] == ["a", "b", "c"]
    for node in result["nodes"]:
        assert set(node) >= {"id", "type", "status", "attempts", "duration_ms", "output", "error"}
        assert node["status"] == "SUCCEEDED" and node["attempts"] == 1
    assert result["nodes"][2]["output"] == {"final": "web-01"}
    run = PipelineRun.objects.get(pk=result["run_id"])
    stages = list(StageExecution.objects.filter(run=run).order_by("position"))
    assert [s.node_id for s in stages] == ["a", "b", "c"]
    assert all(s.started_at and s.finished_at and s.duration_ms is not None for s in stages)
    assert stages[1].output == {"host": "web-01", "line": "Host web-01"}


def test_edges_not_list_order_decide_execution(run_cmd, config_file):
    config = {
        "nodes": [
            {
                "id": "first",
                "type": "transform",
                "config": {"mapping": {"s": "payload.server"}},
                "next": "second",
            },
            {
                "id": "third",
                "type": "transform",
                "config": {"mapping": {"t": "nodes.second.output.s"}},
            },
            {
                "id": "second",
                "type": "transform",
                "config": {"mapping": {"s": "nodes.first.output.s"}},
                "next": "third",
            },
        ]
    }
    result = run_cmd(
        "--config", config_file(config), "--payload", '{"server": "x"}', "--json"
    ).json()
    assert [n["id"] for n in result["nodes"]] == ["first", "second", "third"]
    assert result["nodes"][2]["output"] == {"t": "x"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--definition", "nonexistent"], "Pipeline definition not found: nonexistent"),
        (["--config", "missing.json"], "Config file not found: missing.json"),
        (
            ["--definition", "a", "--config", "b.json"],
            "Cannot specify both --definition and --config",
        ),
    ],
)
def test_spec_error_messages(run_cmd, args, message):
    with pytest.raises(CommandError) as exc:
        run_cmd(*args)
    assert str(exc.value) == message
    assert PipelineRun.objects.count() == 0


def test_invalid_json_in_config_file(run_cmd, config_file):
    with pytest.raises(CommandError) as exc:
        run_cmd("--config", config_file("{not json"))
    assert str(exc.value).startswith("Invalid JSON in config file: ")
    assert "\n" not in str(exc.value)


def test_validation_block_exact(run_cmd, config_file):
    config = {
        "nodes": [
            {"id": "metrics", "type": "context", "config": {"include": ["cpu"]}, "next": "analyze"},
            {"id": "analyze", "type": "ai", "next": "notify"},
            {"id": "notify", "type": "notify", "config": {"driver": "console"}, "next": "missing"},
        ]
    }
    with pytest.raises(CommandError) as exc:
        run_cmd("--config", config_file(config))
    assert str(exc.value) == (
        "Pipeline definition invalid:\n"
        "  - Node 'analyze' has unknown type: ai\n"
        "  - Node 'notify' references non-existent next: 'missing'"
    )
    assert PipelineRun.objects.count() == 0


def test_dry_run_validates_too(run_cmd, config_file):
    with pytest.raises(CommandError, match="Pipeline definition invalid"):
        run_cmd("--config", config_file({"nodes": [{"id": "x", "type": "ai"}]}), "--dry-run")


def test_failed_run_prints_result_then_raises(run_cmd, config_file):
    config = {
        "nodes": [
            {
                "id": "a",
                "type": "transform",
                "config": {"mapping": {"s": "payload.nope"}},
                "next": "b",
            },
            {"id": "b", "type": "transform", "config": {"mapping": {"s": "payload.server"}}},
        ]
    }
    with pytest.raises(CommandError) as exc:
        run_cmd("--config", config_file(config), "--payload", "{}")
    assert str(exc.value).startswith("Pipeline failed: ")
    run = PipelineRun.objects.get()
    assert run.status == "FAILED"
    statuses = dict(run.stages.values_list("node_id", "status"))
    assert statuses == {"a": "FAILED", "b": "NOT_RUN"}
    assert run.stages.get(node_id="b").reason


def test_inactive_definition_is_an_error(run_cmd, db):
    PipelineDefinition.objects.create(name="off", config=TRANSFORM_CONFIG, is_active=False)
    with pytest.raises(CommandError, match="inactive"):
        run_cmd("--definition", "off")
    assert PipelineRun.objects.count() == 0
    with pytest.raises(CommandError, match="inactive"):
        run_cmd("--definition", "off", "--payload", '{"server": "web-01"}', "--async")
    # a dry run checks it before it is switched back on, as the API's dry-run does
    dry = run_cmd("--definition", "off", "--payload", '{"server": "web-01"}', "--dry-run")
    assert dry.out.startswith("=== DRY RUN ===") and "Pipeline Definition: off" in dry.out
    assert PipelineRun.objects.count() == 0


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--payload", "{bad"], "Invalid JSON in --payload"),
        (["--payload", '"a string"'], "Payload must be a JSON object or array"),
        (["--file", "/nonexistent/p.json"], "Payload file not found"),
        (["--source", "nagios-ish"], "Unknown source: nagios-ish"),
        (["--payload", "{}", "--sample"], "Use only one of"),
        (["--trace-id", "has space"], "Invalid --trace-id"),
    ],
)
def test_bad_input_is_one_line_and_stores_nothing(run_cmd, config_file, args, fragment):
    with pytest.raises(CommandError) as exc:
        run_cmd("--config", config_file(TRANSFORM_CONFIG), *args)
    assert fragment in str(exc.value) and "\n" not in str(exc.value)
    assert PipelineRun.objects.count() == 0


def _manage(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )


@pytest.fixture
def subprocess_env(tmp_path):
    import os

    env = dict(
        os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", DATA_DIR=str(tmp_path)
    )
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"],
        env=env,
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    return env


def test_exit_codes_and_no_traceback(subprocess_env, tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(TRANSFORM_CONFIG))
    ok = _manage(
        "run_pipeline",
        "--config",
        str(good),
        "--payload",
        '{"server": "a"}',
        "--json",
        env=subprocess_env,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["status"] == "COMPLETED"
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{")
    for args in (
        ["--config", str(bad_json)],
        ["--config", "missing.json"],
        ["--definition", "nope"],
        ["--config", str(good), "--payload", "[1,"],
        ["--config", str(good), "--payload", "{}", "--json"],
    ):
        proc = _manage("run_pipeline", *args, env=subprocess_env)
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert proc.stderr.startswith("CommandError: ")
    failed = _manage(
        "run_pipeline", "--config", str(good), "--payload", "{}", "--json", env=subprocess_env
    )
    assert json.loads(failed.stdout)["status"] == "FAILED"  # stdout holds only the JSON document
    assert "CommandError: Pipeline failed: " in failed.stderr


def test_dry_run_preview_reads_vendor_alerts_and_message_templates(run_cmd, config_file, db):
    from apps.alerts.models import Alert

    config = {
        "nodes": [
            {
                "id": "page",
                "type": "notify",
                "config": {
                    "driver": "console",
                    "title": "{{ message.severity | upper }}: {{ message.title }}",
                },
            }
        ]
    }
    ran = run_cmd(
        "--config", config_file(config), "--sample", "--source", "alertmanager", "--dry-run"
    )
    extra = ran.err
    assert "Title: CRITICAL: HighCpuUsage" in extra
    assert "Host:     web-01" in extra
    assert Alert.objects.count() == 0 and PipelineRun.objects.count() == 0


def test_dry_run_renders_incident_templates_as_the_real_run_will(run_cmd, config_file, db, capsys):
    """Was: `incident` was null in a dry run, so the preview showed the default title while the
    real run sent the template's."""
    from apps.alerts.models import Alert, Incident

    config = {"nodes": [
        {"id": "ingest", "type": "ingest", "next": "page"},
        {"id": "page", "type": "notify", "config": {
            "driver": "console", "title": "{{ incident.severity | upper }} {{ incident.title }}"}},
    ]}  # fmt: skip
    path = config_file(config)
    dry = run_cmd("--config", path, "--sample", "--source", "alertmanager", "--dry-run")
    previewed = dry.err
    assert "Title: CRITICAL HighCpuUsage on web-01" in previewed
    assert Alert.objects.count() == 0 and Incident.objects.count() == 0
    real = run_cmd("--config", path, "--sample", "--source", "alertmanager", "--json")
    page = next(node for node in json.loads(real.out)["nodes"] if node["id"] == "page")
    (delivery,) = page["output"]["deliveries"]
    assert "warning" not in delivery  # the template rendered: no default title
    assert "CRITICAL HighCpuUsage on web-01" in capsys.readouterr().err  # the console driver
    assert Incident.objects.get().title == "HighCpuUsage on web-01"


def test_verbosity_0_prints_the_outcome_in_one_line(run_cmd, config_file, db):
    config = {
        "nodes": [{"id": "a", "type": "transform", "config": {"mapping": {"s": "payload.s"}}}]
    }
    ran = run_cmd("--config", config_file(config), "--payload", '{"s": "x"}', "-v", "0")
    run = PipelineRun.objects.get()
    assert ran.out == f"✓ Pipeline completed successfully (run {run.pk})\n"
    with pytest.raises(CommandError, match="Pipeline failed"):
        run_cmd("--config", config_file(config), "--payload", '{"t": "x"}', "-v", "0")
