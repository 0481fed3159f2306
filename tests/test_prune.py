"""manage.py prune: deletes old finished records in batches and keeps open incidents."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.alerts.models import Alert, AlertEvent, Incident
from apps.checkers.models import CheckRun
from apps.intelligence.models import AnalysisRun
from apps.notify.models import Delivery
from apps.orchestration.models import PipelineRun, StageExecution

pytestmark = pytest.mark.django_db

OLD = timezone.now() - timedelta(days=40)
RECENT = timezone.now() - timedelta(days=5)


def make_run(status: str, when, stages: int = 2) -> PipelineRun:
    run = PipelineRun.objects.create(
        trace_id="t",
        status=status,
        created_at=when,
        finished_at=when if status in ("COMPLETED", "FAILED") else None,
    )
    for number in range(stages):
        StageExecution.objects.create(run=run, node_id=f"n{number}", node_type="transform")
    return run


def make_incident(status: str, key: str) -> Incident:
    return Incident.objects.create(title=key, status=status, group_key=key)


def make_alert(incident: Incident | None, status: str, when, key: str) -> Alert:
    alert = Alert.objects.create(
        source="generic",
        fingerprint=key,
        name=key,
        status=status,
        severity="warning",
        incident=incident,
        created_at=when,
    )
    Alert.objects.filter(pk=alert.pk).update(updated_at=when)  # save() would not keep it
    AlertEvent.objects.create(alert=alert, kind="created")
    return alert


def make_delivery(key: str, when, incident=None, run=None) -> Delivery:
    return Delivery.objects.create(
        driver="console",
        idempotency_key=key,
        created_at=when,
        incident=incident,
        pipeline_run=run,
        status="succeeded",
    )


@pytest.fixture
def history():
    """Old and recent records of every kind, and ones that must survive any cutoff."""
    open_incident = make_incident("open", "open-1")
    acked_incident = make_incident("acknowledged", "acked-1")
    resolved_incident = make_incident("resolved", "")
    old_done = make_run("COMPLETED", OLD)
    make_run("FAILED", OLD)
    still_running = make_run("RUNNING", OLD)
    never_started = make_run("PENDING", OLD)
    recent_done = make_run("COMPLETED", RECENT)
    for when in (OLD, OLD, RECENT):
        CheckRun.objects.create(
            check_name="cpu", host="h", status="ok", created_at=when, pipeline_run=old_done
        )
    AnalysisRun.objects.create(provider="local", requested_provider="local", created_at=OLD)
    AnalysisRun.objects.create(
        provider="local", requested_provider="local", created_at=OLD, incident=open_incident
    )
    make_delivery("d-old", OLD, run=old_done)
    make_delivery("d-old-resolved", OLD, incident=resolved_incident)
    make_delivery("d-open-incident", OLD, incident=open_incident)
    make_delivery("d-running", OLD, run=still_running)
    make_delivery("d-recent", RECENT)
    make_alert(None, "resolved", OLD, "a-old")
    make_alert(resolved_incident, "resolved", OLD, "a-old-resolved-incident")
    make_alert(open_incident, "resolved", OLD, "a-open-incident")
    make_alert(acked_incident, "resolved", OLD, "a-acked-incident")
    make_alert(None, "firing", OLD, "a-firing")
    make_alert(None, "resolved", RECENT, "a-recent")
    return {
        "kept_runs": {still_running.pk, never_started.pk, recent_done.pk},
        "open": open_incident,
        "acked": acked_incident,
    }


def prune(*args: str) -> str:
    out = StringIO()
    call_command("prune", *args, stdout=out, no_color=True)
    return out.getvalue()


def table(output: str) -> dict[str, int]:
    rows = {}
    for line in output.splitlines():
        if line.startswith("  "):
            label, number = line.strip().rsplit(None, 1)
            rows[label.strip()] = int(number.replace(",", ""))
    return rows


def everything() -> tuple:
    return tuple(
        model.objects.count()
        for model in (
            PipelineRun,
            StageExecution,
            CheckRun,
            AnalysisRun,
            Delivery,
            Alert,
            AlertEvent,
            Incident,
        )
    )


EXPECTED = {
    "Pipeline runs": 2,
    "Stage executions": 4,
    "Check runs": 2,
    "Analysis runs": 1,
    "Deliveries": 2,
    "Alerts": 2,
    "Alert events": 2,
    "Host snapshots": 0,  # pruned by count and age: tests/hosts/test_snapshots_api.py
}


def test_dry_run_counts_and_deletes_nothing(history):
    before = everything()
    output = prune("--older-than", "30d", "--dry-run")
    assert table(output) == EXPECTED
    assert "nothing was deleted" in output
    assert everything() == before


def test_prune_deletes_old_finished_records_and_keeps_the_rest(history):
    output = prune("--older-than", "30d", "--batch-size", "1")
    assert table(output) == EXPECTED
    assert "Deleted 15 rows." in output

    assert set(PipelineRun.objects.values_list("pk", flat=True)) == history["kept_runs"]
    assert StageExecution.objects.count() == 6  # the three kept runs' stages
    assert CheckRun.objects.count() == 1
    assert list(AnalysisRun.objects.values_list("incident", flat=True)) == [history["open"].pk]
    assert set(Delivery.objects.values_list("idempotency_key", flat=True)) == {
        "d-open-incident",
        "d-running",
        "d-recent",
    }
    assert set(Alert.objects.values_list("fingerprint", flat=True)) == {
        "a-open-incident",
        "a-acked-incident",
        "a-firing",
        "a-recent",
    }
    assert AlertEvent.objects.count() == 4
    assert Incident.objects.count() == 3  # incidents are never pruned

    # A second run finds nothing more.
    assert set(table(prune("--older-than", "30d")).values()) == {0}


def test_shorter_cutoff_takes_recent_records_too(history):
    counts = table(prune("--older-than", "72h", "--dry-run"))
    assert counts["Pipeline runs"] == 3
    assert counts["Check runs"] == 3
    assert counts["Alerts"] == 3


def test_minutes_and_whitespace_are_accepted(history):
    assert table(prune("--older-than", " 90m ", "--dry-run"))["Pipeline runs"] == 3


def test_output_is_aligned(history):
    rows = [
        line
        for line in prune("--older-than", "30d", "--dry-run").splitlines()
        if line.startswith("  ")
    ]
    assert len({len(line) for line in rows}) == 1


def test_verbosity_zero_is_quiet(history):
    out = StringIO()
    call_command("prune", "--older-than", "30d", verbosity=0, stdout=out)
    assert out.getvalue() == ""
    assert PipelineRun.objects.count() == 3


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("30", "Invalid --older-than"),
        ("30 days", "Invalid --older-than"),
        ("abc", "Invalid --older-than"),
        ("", "Invalid --older-than"),
        ("-5d", "Invalid --older-than"),
        ("1.5d", "Invalid --older-than"),
        ("30w", "Invalid --older-than"),
        ("٣٠d", "Invalid --older-than"),
        ("0d", "more than 0"),
        ("999999999d", "too large"),
    ],
)
def test_bad_durations_are_one_line_errors_and_delete_nothing(history, value, message):
    before = everything()
    with pytest.raises(CommandError) as error:
        prune(f"--older-than={value}")
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    assert everything() == before


def test_older_than_is_required():
    with pytest.raises(CommandError, match="older-than"):
        prune()


def test_bad_batch_size(history):
    with pytest.raises(CommandError, match="batch-size"):
        prune("--older-than", "30d", "--batch-size", "0")
