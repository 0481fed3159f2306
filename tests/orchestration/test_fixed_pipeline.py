"""The built-in pipeline (no --definition, no --config): ingest -> check -> analyze -> notify on
the one engine, with its own sections, its --json shape, its dry-run and --checks-only."""

import re

import pytest
from django.core.management import CommandError

from apps.alerts.models import Incident
from apps.orchestration.models import PipelineRun

pytestmark = pytest.mark.django_db

STAGES = ["ingest", "check", "analyze", "notify"]


def sections(text: str) -> dict[str, str]:
    found = re.findall(r"--- ([A-Z]+) ---\n((?:  .*\n)+)", text)
    return dict(found)


def sample_hosts(payload):
    from apps.alerts.vendors import parse

    return {alert.host for alert in parse(payload, "grafana")} - {""}


def test_a_sample_about_another_host_says_it_has_no_facts_of_it(run_cmd, settings):
    settings.HOST_NAME, settings.HOST_ALIASES = "hub-1", []
    found = sections(run_cmd("--sample", "--source", "grafana").out)
    assert re.fullmatch(
        r"  Checks run: 0\n  OK: 0\n  Warning: 0\n  Critical: 0\n  Unknown: 0\n"
        r"  Host facts: none for \S+ \(no agent "
        r"report for \S+ in the last 300 s; PROMETHEUS_URL is not set\)\n  Duration: .*\n",
        found["CHECK"],
    )


def test_result_has_the_four_sections_with_their_facts(run_cmd, capsys, settings):
    from apps.alerts.samples import sample_payload

    settings.HOST_ALIASES = ["web-01", *(str(v) for v in sample_hosts(sample_payload("grafana")))]
    ran = run_cmd("--sample", "--source", "grafana")
    assert ran.out.startswith(
        "=" * 60 + "\nPIPELINE RESULT\n" + "=" * 60 + "\n\nStatus: COMPLETED\n"
    )
    assert "\nDefinition: standard (built-in)\n" in ran.out
    run_id = int(re.search(r"\nRun ID: (\d+)\n", ran.out).group(1))
    found = sections(ran.out)
    assert list(found) == ["INGEST", "CHECK", "ANALYZE", "NOTIFY"]
    incident = Incident.objects.get()
    assert re.fullmatch(
        rf"  Incident ID: {incident.pk}\n  Alerts created: 1\n  Severity: critical\n"
        r"  Duration: \d+\.\d{2}ms\n",
        found["INGEST"],
    )
    assert re.fullmatch(
        r"  Checks run: 8\n  OK: \d\n(  Warning: \d.*\n)(  Critical: \d.*\n)(  Unknown: \d.*\n)"
        r"  Host: \S+ \(local, [\d.]+ s old\)\n"
        r"  Duration: \d+\.\d{2}ms\n",
        found["CHECK"],
    )
    analyze = found["ANALYZE"]
    assert re.match(r"  Summary: .+\n  Probable cause: .+\n  Recommendations:\n", analyze)
    assert re.fullmatch(
        r"  Driver: console\n  Channels attempted: 1\n  Succeeded: 1\n  Failed: 0\n"
        r"  Duration: \d+\.\d{2}ms\n",
        found["NOTIFY"],
    )
    assert ran.out.rstrip().endswith("✓ Pipeline completed successfully")
    assert "High CPU usage" in capsys.readouterr().err  # the console driver's message
    run = PipelineRun.objects.get(pk=run_id)
    assert (run.kind, run.status, run.incident_id) == ("fixed", "COMPLETED", incident.pk)
    assert [s.node_id for s in run.stages.order_by("position")] == STAGES


def test_json_uses_the_stage_ids(run_cmd):
    result = run_cmd("--sample", "--source", "alertmanager", "--json").json()
    assert [n["id"] for n in result["nodes"]] == STAGES
    assert {n["status"] for n in result["nodes"]} == {"SUCCEEDED"}
    assert result["definition"] == "standard" and result["config_path"] is None
    assert result["incident_id"] == Incident.objects.get().pk


def test_dry_run_keeps_the_configuration_and_stages_blocks_and_stores_nothing(run_cmd):
    ran = run_cmd("--sample", "--source", "generic", "--dry-run")
    out = ran.out
    assert out.startswith(
        "=== DRY RUN ===\n\nPipeline Configuration:\n  Source: generic\n"
        "  Environment: development\n  Notify Driver: console\n\nPayload:\n{\n"
    )
    stages = out.split("\nPipeline Stages:\n", 1)[1]
    assert re.findall(r"^  (\d)\. (\w+) +- ", stages, re.M) == [
        ("1", "INGEST"),
        ("2", "CHECK"),
        ("3", "ANALYZE"),
        ("4", "NOTIFY"),
    ]
    assert out.endswith("\n\nUse without --dry-run to execute\n")
    assert "Notifications that would be sent:" in ran.err
    assert PipelineRun.objects.count() == 0 and Incident.objects.count() == 0


def test_checks_only_runs_the_checks_and_records_the_rest_as_skipped(run_cmd, capsys):
    ran = run_cmd("--sample", "--checks-only", "--json")
    result = ran.json()
    statuses = [(n["id"], n["status"]) for n in result["nodes"]]
    assert statuses == [
        ("ingest", "SKIPPED"),
        ("check", "SUCCEEDED"),
        ("analyze", "SKIPPED"),
        ("notify", "SKIPPED"),
    ]
    assert result["status"] == "COMPLETED" and result["incident_id"] is None
    assert Incident.objects.count() == 0  # nothing ingested
    assert ran.err == "" and capsys.readouterr().err == ""  # nothing notified
    run = PipelineRun.objects.get(pk=result["run_id"])
    assert run.stages.filter(status="SKIPPED").count() == 3


def test_checks_only_dry_run_marks_the_disabled_stages(run_cmd):
    ran = run_cmd("--checks-only", "--dry-run")
    out = ran.out
    assert out.count(" [skipped: --checks-only]\n") == 3
    assert "  2. CHECK   - Run the host checks" in out
    assert "[skipped" not in out.split("2. CHECK", 1)[1].split("\n", 1)[0]
    assert "Notifications that would be sent" not in ran.err  # notify is disabled


def test_checks_only_text_shows_what_was_skipped(run_cmd):
    found = sections(run_cmd("--checks-only").out)
    assert list(found) == ["INGEST", "CHECK", "ANALYZE", "NOTIFY"]
    assert found["NOTIFY"].startswith(
        "  Status: SKIPPED\n  Reason: disabled in the definition (enabled: false)\n"
    )
    assert found["CHECK"].startswith("  Checks run: 8\n")


def test_a_notify_driver_that_cannot_send_fails_the_run(run_cmd, settings, monkeypatch):
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    with pytest.raises(CommandError, match=r"^Pipeline failed: node 'notify' \(notify\) failed"):
        run_cmd("--sample", "--notify-driver", "slack")
    run = PipelineRun.objects.get()
    assert run.status == "FAILED"
    assert run.stages.get(node_id="notify").status == "FAILED"


def test_dry_run_json_is_one_document_with_plan_and_previews(run_cmd):
    document = run_cmd("--sample", "--source", "grafana", "--dry-run", "--json").json()
    assert [step["id"] for step in document["plan"]] == STAGES
    assert document["definition"] == "standard" and document["config_path"] is None
    assert document["payload"]["alerts"][0]["labels"]["alertname"] == "High CPU usage"
    (preview,) = document["notifications"]
    assert preview["driver"] == "console" and "High CPU usage" in preview["title"]
    assert PipelineRun.objects.count() == 0
