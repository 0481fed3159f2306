"""manage.py silence add|list|expire|query, called as a Django command."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from apps.alerts.models import Alert, Silence

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("silence", *args, stdout=out, stderr=io.StringIO(), no_color=True)
    return out.getvalue()


def firing(name, host):
    return Alert.objects.create(source="alertmanager", fingerprint=f"{name}{host}", name=name,
                                host=host, status="firing", severity="warning")  # fmt: skip


def test_add_list_query_expire():
    firing("DiskFull", "web-03")
    firing("DiskFull", "web-09")
    out = run("add", "alertname=DiskFull", 'host=~"web-0[1-7]"', "--duration", "2h",
              "--comment", "planned reboot")  # fmt: skip
    silence = Silence.objects.get()
    assert f"silence #{silence.pk} added" in out and "[active]" in out
    assert "it matches 1 firing alert(s) now" in out
    assert silence.matchers == [
        {"name": "alertname", "op": "=", "value": "DiskFull"},
        {"name": "host", "op": "=~", "value": "web-0[1-7]"},
    ]
    listed = run("list")
    assert "planned reboot" in listed and "active" in listed
    rows = json.loads(run("list", "--json"))
    assert rows[0]["matchers"] == 'alertname="DiskFull",host=~"web-0[1-7]"'
    query = run("query", 'host=~"web-0[1-7]"')
    assert "web-03" in query and "web-09" not in query
    assert "1 firing alert(s) would be silenced" in query
    assert f"silence #{silence.pk} expired" in run("expire", str(silence.pk), "--by", "anna")
    assert Silence.objects.get().expired_by == "anna"
    assert "no silences" in run("list")
    assert json.loads(run("list", "--all", "--json"))[0]["state"] == "expired"


def test_a_recurring_window():
    out = run("add", "host=web-07", "--every", "0 2 * * SUN", "--duration", "2h",
              "--tz", "Europe/Berlin", "--comment", "weekly patching")  # fmt: skip
    assert "every '0 2 * * SUN' (Europe/Berlin) for 2h" in out
    silence = Silence.objects.get()
    assert (silence.schedule, silence.duration_s, silence.time_zone) == (
        "0 2 * * SUN", 7200, "Europe/Berlin")  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "host", "--duration", "1h", "--comment", "c"], "bad matcher format"),
        (["add", "host=x", "--comment", "c"], "exactly one of --duration and --until"),
        (["add", "host=x", "--until", "tomorrow", "--comment", "c"], "not an ISO 8601"),
        (["add", "host=x", "--until", "2030-01-01T00:00", "--comment", "c"], "no time zone"),
        (["add", "host=x", "--until", "2000-01-01T00:00Z", "--comment", "c"], "end before"),
        (["expire", "abc"], "must be a number"),
        (["expire", "99"], "no silence with id 99"),
        (["query", 'host=~"(?=x)"'], "lookaround"),
    ],
)
def test_bad_input_is_a_one_line_error(args, message):
    with pytest.raises(CommandError, match=message) as raised:
        run(*args)
    assert "\n" not in str(raised.value)
    assert not Silence.objects.exists()


def test_route_test_and_explain_alert_say_silenced_or_inhibited_and_by_what(tmp_path):
    from apps.alerts.models import InhibitionRule
    from apps.alerts.services import ingest

    InhibitionRule.objects.create(name="host-down", source_matchers=["alertname=HostDown"],
                                  target_matchers=["alertname!=HostDown"], equal=["host"])  # fmt: skip
    out = io.StringIO()
    call_command("silence", "add", "alertname=Load", "--duration", "1h", "--comment", "load test",
                 stdout=out)  # fmt: skip
    body = {"version": "4", "groupKey": "{}", "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": name, "instance": "web-07"}}
        for name in ("HostDown", "DiskFull", "Load")]}  # fmt: skip
    ingest(body, "alertmanager")
    path = tmp_path / "p.json"
    path.write_text(json.dumps(body))
    routed = io.StringIO()
    call_command("route_test", "--file", str(path), stdout=routed, no_color=True)
    lines = routed.getvalue().splitlines()
    assert lines[1].startswith("HostDown") and lines[2].startswith("DiskFull")  # never itself
    assert "notify nodes would skip: inhibited by alert 'HostDown' on web-07" in lines[3]
    assert lines[4].startswith("Load")
    assert "notify nodes would skip: silenced by silence #" in lines[5]
    disk = Alert.objects.get(name="DiskFull")
    explained = io.StringIO()
    call_command("explain_alert", str(disk.pk), stdout=explained, no_color=True)
    assert "inhibited by alert 'HostDown' on web-07 (rule host-down)" in explained.getvalue()
    host_down = Alert.objects.get(name="HostDown")
    explained = io.StringIO()
    call_command("explain_alert", str(host_down.pk), stdout=explained, no_color=True)
    assert "sent (not silenced or inhibited now)" in explained.getvalue()
