"""Bad input to run_pipeline, pipelines and prune: one-line CommandError, nothing stored or lost."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.common import jsonio
from apps.orchestration.models import PipelineDefinition, PipelineRun, StageExecution

from .conftest import TRANSFORM_CONFIG

pytestmark = pytest.mark.django_db


def one_line_error(*args: str, command: str = "run_pipeline") -> str:
    with pytest.raises(CommandError) as caught:
        call_command(command, *args, stdout=StringIO(), stderr=StringIO())
    message = str(caught.value)
    assert "Traceback" not in message
    return message


@pytest.fixture
def transform_definition():
    return PipelineDefinition.objects.create(name="shapes", config=TRANSFORM_CONFIG)


@pytest.fixture
def failed_run():
    """A FAILED run of the built-in pipeline: an empty payload no vendor claims."""
    with pytest.raises(CommandError, match="Pipeline failed"):
        call_command("run_pipeline", "--payload", "{}", stdout=StringIO(), stderr=StringIO())
    return PipelineRun.objects.get()


@pytest.mark.parametrize("flag", ["--definition", "--config", "--file"])
def test_empty_flag_values_are_errors_not_the_builtin_pipeline(flag, transform_definition):
    args = [flag, ""] if flag != "--file" else ["--definition", "shapes", "--file", ""]
    assert one_line_error(*args) == f"{flag} is empty"
    assert PipelineRun.objects.count() == 0


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ('{"server": NaN}', "NaN is not a JSON value"),
        ('{"server": -Infinity}', "-Infinity is not a JSON value"),
        ('{"server": "web\\u0000-01"}', "JSON string at /server contains a NUL character"),
        ('{"a\\u0000": 1}', "JSON string at / contains a NUL character"),
        ("[" * 100_000 + "]" * 100_000, "JSON is nested too deeply"),
    ],
)
def test_payloads_no_database_can_store_are_refused_before_a_run(
    payload, reason, transform_definition, tmp_path
):
    message = one_line_error("--definition", "shapes", "--payload", payload)
    assert message.startswith(f"Invalid JSON in --payload: {reason}")
    path = tmp_path / "p.json"
    path.write_text(payload)
    message = one_line_error("--definition", "shapes", "--file", str(path))
    assert message.startswith(f"Invalid JSON in payload file: {reason}")
    assert PipelineRun.objects.count() == 0


def test_a_directory_is_not_reported_as_missing(tmp_path):
    message = one_line_error("--config", str(tmp_path))
    assert message == f"Config file is a directory, not a file: {tmp_path}"


@pytest.mark.parametrize("flag", ["--resume", "--replay"])
def test_dry_run_of_a_past_run_is_refused_and_changes_nothing(flag, failed_run):
    before = (failed_run.status, failed_run.finished_at, StageExecution.objects.count())
    message = one_line_error(flag, str(failed_run.pk), "--dry-run")
    assert message == f"{flag} reuses the recorded run's input and settings; it takes no --dry-run"
    failed_run.refresh_from_db()
    assert (failed_run.status, failed_run.finished_at, StageExecution.objects.count()) == before
    assert PipelineRun.objects.count() == 1


def test_resume_refuses_flags_it_would_ignore(failed_run):
    message = one_line_error(
        "--resume", str(failed_run.pk), "--source", "grafana", "--environment", "prod"
    )
    assert message.endswith("it takes no --source, --environment")
    assert "--async" in one_line_error("--resume", str(failed_run.pk), "--async")


def test_builtin_only_flags_with_a_definition_are_refused(transform_definition):
    message = one_line_error("--definition", "shapes", "--checks-only", "--notify-driver", "slack")
    assert message == (
        "--checks-only and --notify-driver only apply to the built-in pipeline, not to a definition"
    )
    assert PipelineRun.objects.count() == 0


@pytest.mark.parametrize("value", ["-5", "0", "nan", "1e12"])
def test_wait_timeout_must_be_positive_and_bounded(value, transform_definition):
    message = one_line_error("--definition", "shapes", "--async", "--wait", "--wait-timeout", value)
    assert message.startswith("--wait-timeout must be more than 0")
    assert one_line_error("--wait-timeout", "5") == "--wait-timeout goes with --async --wait"
    assert PipelineRun.objects.count() == 0


def test_a_good_payload_still_runs(run_cmd, transform_definition):
    ran = run_cmd("--definition", "shapes", "--payload", '{"server": "web-01 🔥 שלום"}', "--json")
    assert ran.json()["status"] == "COMPLETED"


def test_files_with_a_byte_order_mark_are_read(run_cmd, tmp_path):
    config = tmp_path / "c.json"
    config.write_bytes("\ufeff".encode() + json.dumps(TRANSFORM_CONFIG).encode())
    payload = tmp_path / "p.json"
    payload.write_bytes(b"\xef\xbb\xbf" + b'{"server": "web-01"}')
    ran = run_cmd("--config", str(config), "--file", str(payload), "--json")
    assert ran.json()["status"] == "COMPLETED"


# --- pipelines ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"nodes": [{"id": "a", "type": "transform", "config": {"mapping": {"x": NaN}}}]}', "NaN"),
        ('{"description": "a\\u0000b", "nodes": []}', "NUL character"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_pipelines_import_refuses_json_the_database_cannot_store(text, reason, tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(TRANSFORM_CONFIG))
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    out = StringIO()
    with pytest.raises(CommandError, match="Nothing imported: 1 of 2 file"):
        call_command("pipelines", "import", str(good), str(bad), stdout=out)
    assert reason in out.getvalue()
    assert PipelineDefinition.objects.count() == 0  # all files or none


def test_pipelines_targets_that_are_empty_or_directories(tmp_path):
    assert one_line_error("show", "", command="pipelines") == (
        "Cannot show '': Empty definition name or file path"
    )
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("pipelines", "validate", str(tmp_path), "--json", stdout=out)
    [result] = json.loads(out.getvalue())
    assert result["problems"][0]["message"] == f"Not a file (a directory): {tmp_path}"


# --- prune -------------------------------------------------------------------------------


def test_prune_batch_size_out_of_range_is_an_error(failed_run):
    message = one_line_error(
        "--older-than", "1d", "--batch-size", "99999999999999999999", command="prune"
    )
    assert message == "--batch-size must be between 1 and 100000"
    assert PipelineRun.objects.count() == 1


def test_jsonio_finds_the_first_nul_in_document_order():
    assert jsonio.nul_path({"a": ["ok", "x\x00"], "b": "\x00"}) == "/a/1"
    assert jsonio.nul_path([{"k": 1}]) is None


@pytest.mark.django_db(transaction=True)  # the inline run starts on commit, as in the command
def test_async_without_a_broker_exits_as_the_inline_run_ended(settings):
    """Was: it printed `Status: FAILED (ran inline...)` and exited 0."""
    settings.CELERY_BROKER_URL = ""
    out = StringIO()
    with pytest.raises(CommandError, match="Pipeline failed") as caught:
        call_command("run_pipeline", "--payload", "{}", "--async", stdout=out, stderr=StringIO())
    assert caught.value.returncode == 1
    assert "Status: FAILED (ran inline: CELERY_BROKER_URL is not set)" in out.getvalue()
    assert PipelineRun.objects.get().status == "FAILED"
