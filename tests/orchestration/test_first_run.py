"""What a newcomer meets first (issue 15): input refused before anything is stored, definitions
from the wild, exported files that run, the project's version, names suggested, progress on a
terminal only, pages not sent shown as such, checks counted by status name, unmatched webhook
alerts routed to the shipped alert-triage, and `check` warning when nothing can page."""

import json
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from apps.alerts.models import Incident
from apps.orchestration import routing
from apps.orchestration.definition import validate_definition
from apps.orchestration.models import PipelineDefinition, PipelineRun
from apps.orchestration.portability import load_file, store
from apps.orchestration.rendering import definition_result_text
from apps.orchestration.rendering_fixed import _check_lines
from apps.orchestration.triggers import ingest_and_start

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
TRANSFORM = {
    "version": "1",
    "nodes": [{"id": "t", "type": "transform", "config": {"mapping": {"m": "{{ 'x' }}"}}}],
}


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def stored_counts() -> tuple[int, int]:
    return PipelineRun.objects.count(), Incident.objects.count()


# --- definitions from the wild ------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1", 1, 1.0, "1.0", " 1.0 "])
def test_every_form_of_version_1_is_version_1(version):
    assert validate_definition({**TRANSFORM, "version": version}) == []


@pytest.mark.parametrize("version", ["2", "1.1", 2, True, None, "one"])
def test_other_versions_are_refused_naming_the_value(version):
    (problem,) = validate_definition({**TRANSFORM, "version": version})
    assert problem.message.startswith("Unsupported version:") and problem.path == "/version"


def test_a_file_written_by_pipelines_export_runs_with_config(tmp_path):
    PipelineDefinition.objects.create(name="shapes", config={**TRANSFORM, "version": "1.0"})
    exported = tmp_path / "shapes.json"
    out = StringIO()
    call_command("pipelines", "export", "shapes", stdout=out)
    exported.write_text(out.getvalue())
    document, problems = load_file(str(exported))  # what `pipelines validate` reads
    assert problems == [] and document is not None
    ran = StringIO()
    call_command("run_pipeline", "--config", str(exported), "--payload", "{}", "--json", stdout=ran)
    result = json.loads(ran.getvalue())
    assert result["status"] == "COMPLETED" and result["nodes"][0]["output"] == {"m": "x"}
    assert result["config_path"] == str(exported)


def test_an_export_file_with_a_bad_field_is_invalid_for_run_pipeline_too(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"name": "bad", "match": {"colour": "red"}, "config": TRANSFORM}))
    with pytest.raises(CommandError, match=r"^Pipeline definition invalid:\n  - unknown match key"):
        call_command("run_pipeline", "--config", str(path), "--payload", "{}")
    assert stored_counts() == (0, 0)


# --- input refused before anything is stored ------------------------------------------------------


@pytest.mark.parametrize("args", [[], ["--definition", "shapes"], ["--source", "grafana"]])
def test_no_input_at_all_is_refused_and_stores_nothing(args):
    PipelineDefinition.objects.create(name="shapes", config=TRANSFORM)
    with pytest.raises(CommandError) as error:
        call_command("run_pipeline", *args, stdout=StringIO(), stderr=StringIO())
    assert str(error.value).startswith("No input: give --payload JSON, --file PATH or --sample")
    assert "\n" not in str(error.value)
    assert stored_counts() == (0, 0)


def test_checks_only_and_dry_run_need_no_input(run_cmd):
    assert "=== DRY RUN ===" in run_cmd("--dry-run").out
    assert run_cmd("--checks-only", "--json").json()["status"] == "COMPLETED"


@pytest.mark.parametrize(
    ("payload", "shown"),
    [("[1, 2]", "an array of non-objects"), ("[]", "an empty array"), ('"x"', "a string"),
     ("3", "a number"), ("null", "null")],
)  # fmt: skip
def test_a_payload_that_is_not_an_object_is_refused(payload, shown):
    with pytest.raises(CommandError) as error:
        call_command("run_pipeline", "--payload", payload, stdout=StringIO())
    assert str(error.value) == (
        f"Payload must be a JSON object or array of alert objects, not {shown}"
    )
    assert stored_counts() == (0, 0)


def test_a_list_of_prometheus_alerts_is_a_payload(run_cmd):
    body = json.loads((ROOT / "tests/fixtures/variants/alertmanager/prometheus_alert_list.json")
                      .read_text())  # fmt: skip
    result = run_cmd("--payload", json.dumps(body), "--json").json()
    assert result["nodes"][0]["output"]["alerts"]["created"] == 1
    assert Incident.objects.get().title.startswith("InstanceDown")


def test_a_misspelt_definition_name_suggests_the_closest(run_cmd):
    for name in ("health-check", "alert-triage"):
        PipelineDefinition.objects.create(name=name, config=TRANSFORM)
    with pytest.raises(CommandError) as error:
        run_cmd("--definition", "health-chek", "--payload", "{}")
    assert str(error.value) == (
        "Pipeline definition not found: health-chek (did you mean: health-check?)"
    )
    with pytest.raises(CommandError) as error:  # nothing close: the spec's message, exactly
        run_cmd("--definition", "zzz", "--payload", "{}")
    assert str(error.value) == "Pipeline definition not found: zzz"


@pytest.mark.parametrize("args", [["--version"], ["run_pipeline", "--version"]])
def test_version_is_the_projects(args):
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    version = re.search(r'(?m)^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text())[1]
    assert done.stdout.startswith(f"incident-pipeline {version} (Django ")


# --- progress on a terminal only ------------------------------------------------------------------


def test_progress_lines_on_a_terminal():
    err = Terminal()
    PipelineDefinition.objects.create(name="shapes", config=TRANSFORM)
    call_command(
        "run_pipeline", "--definition", "shapes", "--payload", '{"server": "web-07"}',
        stdout=StringIO(), stderr=err,
    )  # fmt: skip
    run = PipelineRun.objects.get()
    lines = err.getvalue().splitlines()
    assert lines[0] == f"Running shapes on web-07 (trace {run.trace_id})…"
    assert re.fullmatch(r"  ✓ transform \(t\) SUCCEEDED \d+ ms", lines[1])
    assert len(lines) == 2


@pytest.mark.parametrize(("stderr", "extra"), [(StringIO, []), (Terminal, ["--json"])])
def test_no_progress_when_piped_or_in_json_mode(stderr, extra):
    PipelineDefinition.objects.create(name="shapes", config=TRANSFORM)
    err = stderr()
    call_command("run_pipeline", "--definition", "shapes", "--payload", "{}", *extra,
                 stdout=StringIO(), stderr=err)  # fmt: skip
    assert err.getvalue() == ""


# --- pages not sent, checks by status -------------------------------------------------------------


def test_a_throttled_page_is_shown_as_not_sent_in_text_and_json(run_cmd):
    run_cmd("--sample")
    second = run_cmd("--sample")
    notify = second.out.split("--- NOTIFY ---\n", 1)[1]
    assert "  Succeeded: 0\n" in notify
    assert re.search(r"  Throttled: 1 \(not sent: incident already notified here", notify)
    assert "completed successfully" not in second.out
    assert second.out.rstrip().endswith("✓ Pipeline completed; 0 notification(s) sent, "
                                        "not sent: 1 throttled")  # fmt: skip
    third = run_cmd("--sample", "--json").json()
    assert third["notifications"] == {"sent": 0, "failed": 0, "throttled": 1}
    assert third["status"] == "COMPLETED"


def test_silenced_and_skipped_pages_are_named_in_the_definition_view():
    from django.core.management.color import no_style

    output = {
        "driver": "slack", "channels_attempted": 0, "channels_succeeded": 0,
        "channels_failed": 0, "channels_throttled": 0, "channels_silenced": 1,
        "quiet": "silenced by #4 (deploy window)",
        "deliveries": [{"status": "silenced", "error": ""}, {"status": "skipped",
                                                            "error": "disabled"}],
    }  # fmt: skip
    result = {
        "status": "COMPLETED", "definition": "d", "trace_id": "t", "run_id": 1,
        "duration_ms": 1.0, "notifications": {"sent": 0, "failed": 0, "silenced": 1,
                                               "skipped": 1},
        "nodes": [{"id": "page", "type": "notify", "status": "SUCCEEDED", "output": output,
                   "duration_ms": 1.0}],
    }  # fmt: skip
    text = definition_result_text(result, no_style())
    assert "  Silenced: 1 (not sent: silenced by #4 (deploy window))\n" in text
    assert "  Skipped: 1 (not sent: disabled)\n" in text
    assert text.endswith("✓ Pipeline completed; 0 notification(s) sent, not sent: 1 silenced, "
                         "1 skipped")  # fmt: skip


def test_the_check_section_counts_each_status_by_name():
    output = {
        "checks_run": 4,
        "summary": {"ok": 1, "warning": 2, "critical": 0, "unknown": 1},
        "checks": {"cpu": {"status": "ok"}, "disk": {"status": "warning"},
                   "swap": {"status": "warning"}, "network": {"status": "unknown"}},
    }  # fmt: skip
    assert _check_lines(output) == [
        "Checks run: 4", "OK: 1", "Warning: 2 (disk, swap)", "Critical: 0", "Unknown: 1 (network)",
    ]  # fmt: skip


def test_the_admin_timeline_says_what_was_not_sent(run_cmd, admin_client):
    run_cmd("--sample")
    run_id = run_cmd("--sample", "--json").json()["run_id"]
    page = admin_client.get(reverse("admin:orchestration_pipelinerun_change", args=[run_id]))
    row = page.content.decode().split('id="node-notify"')[1].split("</tr>")[0]
    assert "<strong>Not sent:</strong> 1 throttled (incident already notified here" in row


# --- unmatched webhook alerts, and nothing to page ------------------------------------------------


def shipped(name: str) -> PipelineDefinition:
    document, problems = load_file(str(ROOT / "pipelines" / f"{name}.json"))
    assert not problems and document is not None
    return store(document).definition


def test_an_alert_no_definition_matches_runs_the_shipped_alert_triage(settings):
    triage = shipped("alert-triage")
    body = {"name": "Disk full", "host": "web-07", "status": "firing", "severity": "critical"}
    triggered = ingest_and_start(body, "generic", "trace-1", start_runs=True, dispatch_runs=False)
    (run,) = PipelineRun.objects.filter(pk__in=triggered.run_ids)
    assert run.definition_id == triage.pk
    route = routing.choose("generic", "critical", {})
    assert route.name == "alert-triage (default)" and "WEBHOOK_DEFAULT_DEFINITION" in route.reason
    settings.WEBHOOK_DEFAULT_DEFINITION = ""
    assert routing.choose("generic", "critical", {}).definition is None
    settings.WEBHOOK_DEFAULT_DEFINITION = "alert-triage"
    PipelineDefinition.objects.filter(pk=triage.pk).update(is_active=False)
    assert routing.choose("generic", "critical", {}).name == "standard (built-in)"


def test_check_warns_in_one_line_when_nothing_can_page(settings):
    for name in ("SLACK_WEBHOOK_URL", "PAGERDUTY_ROUTING_KEY", "GENERIC_WEBHOOK_URL", "NTFY_URL"):
        setattr(settings, name, "")
    settings.NOTIFY_EMAIL_TO = []
    err = StringIO()
    call_command("check", stdout=StringIO(), stderr=err)
    (line,) = [line for line in err.getvalue().splitlines() if "notify.W001" in line]
    assert "set SLACK_WEBHOOK_URL" in line
    settings.SLACK_WEBHOOK_URL = "https://hooks.example.com/x"
    err = StringIO()
    call_command("check", stdout=StringIO(), stderr=err)
    assert "notify.W001" not in err.getvalue()
