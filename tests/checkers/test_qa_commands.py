"""Bad thresholds and failed runs in the check commands: a clear error, an honest exit code."""

import socket
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.checkers.checks import CHECKS, check_class
from apps.checkers.models import CheckRun

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("check", "option", "message"),
    [
        ("cpu", "warning=-5", "check 'cpu' option 'warning' must be between 0 and 100, got -5"),
        ("disk", "critical=101", "check 'disk' option 'critical' must be between 0 and 100"),
        ("network", "critical=150", "check 'network' option 'critical' must be between 0 and"),
        ("uptime", "warning=-1", "check 'uptime' option 'warning' must be 0 or more, got -1"),
        ("load", "critical=-0.5", "check 'load' option 'critical' must be 0 or more"),
    ],
)
def test_thresholds_outside_their_unit_are_errors(check, option, message):
    with pytest.raises(CommandError, match=message):
        call_command("run_check", check, "--option", option, stdout=StringIO())
    assert CheckRun.objects.count() == 0


def test_in_range_thresholds_still_configure():
    for name in CHECKS:
        configured, problems = check_class(name).configure({"warning": None, "critical": 0})
        assert problems == [], name
        assert configured is not None


def test_check_and_alert_exits_non_zero_when_a_run_fails(fake, settings):
    """The alerts are stored; the exit status tells cron that the pipeline run failed."""
    from apps.alerts.models import Alert
    from apps.orchestration.models import PipelineDefinition, PipelineRun

    settings.CHECKERS_SKIP = ["cpu", "network", "process", "uptime", "swap", "load", "memory"]
    settings.INGEST_START_RUNS = True
    settings.CELERY_BROKER_URL = ""
    settings.SLACK_WEBHOOK_URL = ""
    PipelineDefinition.objects.create(
        name="page-slack",
        match={"source": "checks"},
        config={"nodes": [{"id": "notify", "type": "notify", "config": {"driver": "slack"}}]},
    )
    fake.disk(95)
    out = StringIO()
    with pytest.raises(CommandError, match=r"^1 of 1 pipeline run\(s\) failed: #\d+"):
        call_command("check_and_alert", stdout=out, stderr=StringIO())
    run = PipelineRun.objects.get()
    assert run.status == "FAILED"
    assert f"run #{run.pk} FAILED" in out.getvalue()
    alert = Alert.objects.get(fingerprint=f"check:disk:{socket.gethostname()}")
    assert alert.status == "firing"
