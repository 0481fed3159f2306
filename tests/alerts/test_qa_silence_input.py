"""QA of issue 16: `silence add` refuses a schedule that never fires and --tz without --every,
each in one line."""

import io
import re

import pytest
from django.core.management import CommandError, call_command

from apps.alerts.models import Silence

pytestmark = pytest.mark.django_db


def add(*args):
    call_command("silence", "add", "host=web-07", "--comment", "c", *args,
                 stdout=io.StringIO(), stderr=io.StringIO())  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--every", "0 2 30 2 *", "--duration", "2h"], "'0 2 30 2 *' never fires"),
        (["--every", "0 2 31 4,6,9,11 *", "--duration", "2h"], "never fires"),
        (["--duration", "2h", "--tz", "Europe/Berlin"], "--tz only applies with --every"),
        (["--every", "", "--duration", "2h"], "--every is empty"),  # was: active at once
        (["--every", "0 2 * * SUN", "--tz", "", "--duration", "2h"], "--tz is empty"),
        (["--duration", "99999999999h"], "longer than 100 years"),  # was: a traceback
        (["--duration", "2h", "--comment", "x" * 2001], "longer than 2000 characters"),
    ],
)
def test_add_refuses_in_one_line(args, message):
    with pytest.raises(CommandError, match=re.escape(message)) as raised:
        add(*args)
    assert "\n" not in str(raised.value)
    assert not Silence.objects.exists()


def test_a_leap_day_schedule_fires_and_is_accepted():
    add("--every", "0 2 29 2 *", "--duration", "2h")
    assert Silence.objects.get().schedule == "0 2 29 2 *"
