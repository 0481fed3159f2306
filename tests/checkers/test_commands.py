"""check_health, run_check and check_and_alert through call_command."""

import importlib
import json
import socket
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.checkers.checks import CHECKS
from apps.checkers.checks.base import STATUS_RANK
from apps.checkers.cli import parse_options
from apps.checkers.models import CheckRun

pytestmark = pytest.mark.django_db


def run(command: str, *args: str) -> tuple[int, str]:
    """(exit code, stdout) of a command that may end in sys.exit(code)."""
    out = StringIO()
    try:
        call_command(command, *args, stdout=out, no_color=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1, out.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def mixed(fake):
    """memory ok, swap warning, disk critical, load unknown."""
    return fake.memory(10).swap(60).disk(95).set("getloadavg", OSError("no loadavg"))


def test_exit_codes_follow_the_worst_status(mixed):
    assert run("check_health", "memory")[0] == 0
    assert run("check_health", "memory", "swap")[0] == 1
    assert run("check_health", "memory", "disk")[0] == 2
    assert run("check_health", "memory", "load")[0] == 3
    assert run("check_health", "swap", "load")[0] == 3  # unknown over warning
    assert run("check_health", "load", "disk", "swap")[0] == 2  # critical over unknown


def test_fail_on_critical_lets_warnings_pass(mixed):
    assert run("check_health", "memory", "swap", "--fail-on", "critical")[0] == 0
    assert run("check_health", "swap", "disk", "--fail-on", "critical")[0] == 2
    assert run("check_health", "swap", "load", "--fail-on", "critical")[0] == 3


def test_table_output_is_aligned(mixed):
    code, out = run("check_health", "memory", "swap", "disk")
    lines = out.splitlines()
    assert code == 2
    assert lines[0].startswith("memory  OK        memory 10.0% used")
    assert lines[1].startswith("swap    WARNING   swap 60.0% used (warning at >= 50%)")
    assert lines[2].startswith("disk    CRITICAL  disk / 95.0% used")
    assert lines[3] == f"1 ok, 1 warning, 1 critical, 0 unknown on {socket.gethostname()}"


def test_verbosity_zero_prints_nothing_but_keeps_exit_code(mixed):
    assert run("check_health", "swap", "--verbosity", "0") == (1, "")


def test_json_shape(mixed):
    code, out = run("check_health", "memory", "disk", "--json")
    doc = json.loads(out)
    assert code == 2
    assert set(doc) == {"results", "summary"}
    assert [r["check"] for r in doc["results"]] == ["memory", "disk"]
    for result in doc["results"]:
        assert set(result) == {"check", "status", "message", "metrics", "duration_ms"}
    assert doc["results"][1]["metrics"]["paths"]["/"]["percent"] == 95.0
    assert doc["summary"] == {"ok": 1, "warning": 0, "critical": 1, "unknown": 0}


def test_options_and_none_disable_thresholds(mixed):
    assert run("check_health", "disk", "--option", "disk.critical=none")[0] == 1
    both = ["--option", "disk.critical=none", "--option", "disk.warning=none"]
    assert run("check_health", "disk", *both)[0] == 0
    assert run("run_check", "swap", "--option", "warning=70")[0] == 0
    assert run("run_check", "swap", "--option", "warning=None")[0] == 0


def test_run_check_json_and_records(fake):
    fake.uptime_minutes(30)
    code, out = run("run_check", "uptime", "--json", "--option", "critical=45")
    doc = json.loads(out)
    assert code == 2
    assert doc["results"][0]["check"] == "uptime"
    assert doc["results"][0]["status"] == "critical"
    assert CheckRun.objects.get().status == "critical"


def test_check_health_for_real_runs_all_checks():
    code, out = run("check_health", "--json")
    doc = json.loads(out)
    assert [r["check"] for r in doc["results"]] == list(CHECKS)
    worst = max((r["status"] for r in doc["results"]), key=STATUS_RANK.__getitem__)
    assert code == {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}[worst]
    assert CheckRun.objects.count() == 8


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("check_health", "foo"), "unknown check 'foo' in include (known: cpu, disk"),
        (("check_health", "--option", "cpu.warn=1"), "unknown option 'warn' for check 'cpu'"),
        (("check_health", "--option", "cpu"), "--option must look like check.key=value, got 'cpu'"),
        (("check_health", "--option", "=1"), "--option must look like check.key=value"),
        (("check_health", "--option", "cpu.warning=ünï"), "must be a number or none, got 'ünï'"),
        (("check_health", "--option", "nope.x=1"), "unknown check 'nope' in options"),
        (("run_check", "nope"), "unknown check 'nope' (known: cpu, disk"),
        (("run_check", "cpu", "--option", "x"), "--option must look like key=value, got 'x'"),
        (("run_check", "cpu", "--option", "warning=99"), "must not be above critical (95)"),
        (("run_check", "network", "--option", "targets=db"), "target 'db' must look like"),
        (("check_and_alert", "--option", "cpu.bogus=1"), "unknown option 'bogus'"),
    ],
)
def test_bad_input_is_a_one_line_error_and_writes_nothing(args, message):
    with pytest.raises(CommandError) as caught:
        call_command(*args, stdout=StringIO())
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert CheckRun.objects.count() == 0


def test_parse_options():
    assert parse_options(["disk.paths=/,/var", "cpu.warning=none", "disk.warning=5"]) == {
        "disk": {"paths": "/,/var", "warning": "5"},
        "cpu": {"warning": "none"},
    }
    assert parse_options(["warning=1=2"], check="cpu") == {"cpu": {"warning": "1=2"}}


@pytest.mark.django_db
def test_check_alerts_fire_non_ok_and_resolve_only_what_fired():
    from apps.orchestration.triggers import check_alerts

    checks = {
        "cpu": {"status": "ok", "message": "CPU 3% busy"},
        "disk": {"status": "critical", "message": "disk / 95% used"},
        "load": {"status": "unknown", "message": "load check failed"},
    }
    alerts = {a["labels"]["check"]: a for a in check_alerts("web-1", checks)["alerts"]}
    assert "cpu" not in alerts  # never fired: nothing to store
    assert alerts["disk"] == {
        "name": "disk check",
        "status": "firing",
        "severity": "critical",
        "host": "web-1",
        "description": "disk / 95% used",
        "labels": {"check": "disk", "check_status": "critical"},
        "fingerprint": "check:disk:web-1",
    }
    assert (alerts["load"]["status"], alerts["load"]["severity"]) == ("firing", "warning")

    from apps.alerts.services import ingest

    ingest(check_alerts("web-1", checks), source="checks")
    recovered = {**checks, "disk": {"status": "ok", "message": "disk / 10% used"}}
    alerts = {a["labels"]["check"]: a for a in check_alerts("web-1", recovered)["alerts"]}
    assert (alerts["disk"]["status"], alerts["disk"]["description"]) == (
        "resolved",
        "disk check is ok",
    )
    assert "cpu" not in alerts
    assert check_alerts("web-2", recovered)["alerts"][0]["labels"]["check"] == "load"


def _ingest_available() -> bool:
    try:
        return hasattr(importlib.import_module("apps.alerts.services"), "ingest")
    except ImportError:
        return False


@pytest.mark.skipif(
    not _ingest_available(),
    reason="apps.alerts.services.ingest (issue: alerts ingestion) is not written yet",
)
def test_check_and_alert_opens_resolves_and_reopens(fake, settings):
    from apps.alerts.models import Alert, AlertEvent, Incident

    settings.CHECKERS_SKIP = ["cpu", "network", "process", "uptime", "swap", "load", "memory"]
    settings.INGEST_START_RUNS = False
    fingerprint = f"check:disk:{socket.gethostname()}"

    fake.disk(95)
    code, out = run("check_and_alert")
    assert code == 0
    assert "1 checks, 1 firing" in out
    alert = Alert.objects.get(source="checks", fingerprint=fingerprint)
    assert (alert.status, alert.severity) == ("firing", "critical")
    incident = alert.incident
    assert incident.status == Incident.Status.OPEN

    fake.disk(10)
    code, out = run("check_and_alert")
    assert "alerts: 0 created, 0 updated, 1 resolved, 0 unchanged" in out
    alert.refresh_from_db()
    incident.refresh_from_db()
    assert alert.status == "resolved"
    assert incident.status == Incident.Status.RESOLVED

    fake.disk(11)  # still ok: nothing is sent, nothing is written
    events = AlertEvent.objects.count()
    assert "1 checks, 0 firing; alerts: none stored" in run("check_and_alert")[1]
    assert AlertEvent.objects.count() == events

    fake.disk(95)
    run("check_and_alert")
    alert.refresh_from_db()
    assert alert.status == "firing"
    incident.refresh_from_db()
    assert alert.incident_id == incident.pk  # the same incident, reopened
    assert incident.status == Incident.Status.OPEN
    assert CheckRun.objects.filter(check_name="disk").count() == 4


@pytest.mark.skipif(
    not _ingest_available(), reason="apps.alerts.services.ingest is not written yet"
)
def test_check_and_alert_starts_a_run_for_a_new_incident(fake, settings):
    from apps.orchestration.models import FINAL_RUN_STATUSES, PipelineRun

    settings.CHECKERS_SKIP = ["cpu", "network", "process", "uptime", "swap", "load", "memory"]
    settings.INGEST_START_RUNS = True
    settings.CELERY_BROKER_URL = ""
    fake.disk(95)
    code, out = run("check_and_alert")
    run_row = PipelineRun.objects.get()
    assert code == 0
    assert f"run #{run_row.pk} {run_row.status}" in out
    assert run_row.status in FINAL_RUN_STATUSES  # executed before the command returned
    assert run_row.incident.title == f"disk check on {socket.gethostname()}"
    assert run_row.source == "checks"
    # The run's context node used the command's measurement: one CheckRun per execution.
    disk_rows = CheckRun.objects.filter(check_name="disk")
    assert disk_rows.count() == 1
    assert disk_rows.get().pipeline_run_id == run_row.pk
    context = run_row.stages.get(node_type="context").output
    assert context["reused"] == ["disk"]

    # still failing, nothing new: no second run; -v 0 prints nothing
    assert run("check_and_alert", "--verbosity", "0") == (0, "")
    assert PipelineRun.objects.count() == 1


@pytest.mark.django_db
def test_a_healthy_machine_stores_no_alerts(fake, settings):
    from apps.alerts.models import Alert

    settings.CHECKERS_SKIP = ["cpu", "network", "process", "uptime", "swap", "load", "memory"]
    settings.INGEST_START_RUNS = True
    fake.disk(10)
    code, out = run("check_and_alert")
    assert code == 0
    assert "1 checks, 0 firing; alerts: none stored" in out
    assert Alert.objects.count() == 0


def test_usage_errors_exit_1_not_argparse_2_which_reads_as_critical():
    import subprocess
    import sys
    from pathlib import Path

    manage = Path(__file__).resolve().parents[2] / "manage.py"
    done = subprocess.run(
        [sys.executable, str(manage), "check_health", "--fail-on", "info"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "invalid choice: 'info'" in done.stderr


@pytest.mark.django_db
def test_check_and_alert_records_this_machine_as_a_host(fake, settings):
    from apps.hosts.models import Host

    settings.CHECKERS_SKIP = ["cpu", "network", "process", "uptime", "swap", "load", "memory"]
    settings.INGEST_START_RUNS = False
    settings.HOST_NAME = "hub-1"
    fake.disk(95)
    run("check_and_alert")
    host = Host.objects.get(name="hub-1")
    assert (host.last_source, host.statuses) == ("local", {"disk": "critical"})
