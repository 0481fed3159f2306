"""QA of issue 16: notify.W001 ("No notification destination is configured...") is shown by
`manage.py check` and `check --deploy` only, in one line, not by every command that runs the
system checks (migrate, runserver, shell, ...)."""

from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def nothing_can_page(settings):
    for name in ("SLACK_WEBHOOK_URL", "PAGERDUTY_ROUTING_KEY", "GENERIC_WEBHOOK_URL", "NTFY_URL"):
        setattr(settings, name, "")
    settings.NOTIFY_EMAIL_TO = []


def warning_lines(*args, **options):
    err = StringIO()
    call_command(*args, stdout=StringIO(), stderr=err, **options)
    return [line for line in err.getvalue().splitlines() if "notify.W001" in line]


@pytest.mark.parametrize("args", [["check"], ["check", "--deploy"]])
def test_check_shows_the_warning_in_one_line(args):
    (line,) = warning_lines(*args)
    assert "set SLACK_WEBHOOK_URL" in line


@pytest.mark.parametrize("args", [["silence", "list"], ["incidents"], ["showmigrations"]])
def test_other_commands_running_the_system_checks_do_not(args):
    assert warning_lines(*args, skip_checks=False) == []
    (line,) = warning_lines("check")  # and check still does afterwards
    assert warning_lines(*args, skip_checks=False) == []
