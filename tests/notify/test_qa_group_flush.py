"""QA of issue 16: a grouped page is re-checked when its group is sent. Members whose incident
was resolved, silenced or inhibited during group_wait are settled with why and left out of the
message; a group with nothing left sends nothing. The clock is injected; nothing sleeps."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.alerts import actions, silences
from apps.alerts.models import Alert, Incident, InhibitionRule
from apps.notify import grouping
from apps.notify.models import Delivery, NotificationChannel, NotificationGroup
from apps.notify.services import notify
from apps.orchestration import group_flush

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_timers():
    yield
    for timer in group_flush.pending_timers:
        timer.cancel()
    group_flush.pending_timers.clear()


@pytest.fixture(autouse=True)
def hook(http_sink):
    return NotificationChannel.objects.create(
        name="hook", driver="generic", config={"url": f"{http_sink.url}/hook"}
    )


def incident(host, name="HostDown"):
    row = Incident.objects.create(title=f"{name} on {host}", group_key=f"{name}|{host}",
                                  host=host, severity="critical")  # fmt: skip
    Alert.objects.create(source="alertmanager", fingerprint=f"{name}{host}", name=name,
                         host=host, status="firing", severity="critical", incident=row,
                         labels={"alertname": name, "instance": host})  # fmt: skip
    return row


def page_all(rows, now):
    config = {"channel": "hook", "group_wait": "30s"}
    for row in rows:
        notify(config=config, message_context={"incident": row.as_dict()}, incident=row,
               node_id="page")  # fmt: skip
    return NotificationGroup.objects.get()


def member(row):
    return Delivery.objects.get(incident=row, group__isnull=False)


def test_members_resolved_or_silenced_during_group_wait_are_left_out_of_the_message(http_sink):
    now = timezone.now()
    rows = [incident(f"web-{n}") for n in (41, 42, 43, 44)]
    group = page_all(rows, now)
    actions.resolve(rows[0].pk, actions.Actor("ann", "api"), "fixed")
    actions.resolve(rows[1].pk, actions.Actor("ann", "web"), "fixed")
    silence = silences.create(["instance=web-43"], comment="reboot", duration="1h", now=now)
    result = grouping.flush(group.pk, now=now + timedelta(seconds=31))
    assert result["status"] == "succeeded" and result["pages"] == 1
    assert len(http_sink.requests) == 1
    body = http_sink.requests[0].body.decode()
    assert "web-44" in body
    assert not any(host in body for host in ("web-41", "web-42", "web-43"))
    assert "incidents" not in body and "more)" not in body  # one page left: sent as itself
    for row in rows[:2]:
        kept = member(row)
        assert kept.status == "throttled"
        assert (
            kept.last_error
            == f"not sent: incident #{row.pk} was resolved before its group was sent"
        )
    silenced = member(rows[2])
    assert silenced.status == "silenced"
    assert silenced.last_error.startswith(f"silenced by silence #{silence.pk} (reboot")
    assert member(rows[3]).status == "succeeded"


def test_an_inhibited_member_is_recorded_as_inhibited(http_sink):
    now = timezone.now()
    rows = [incident("web-41", "DiskFull"), incident("web-42", "DiskFull")]
    group = page_all(rows, now)
    InhibitionRule.objects.create(name="host-down", source_matchers=["alertname=HostDown"],
                                  target_matchers=["alertname!=HostDown"], equal=["instance"])  # fmt: skip
    incident("web-41")  # HostDown on web-41 fires during the wait
    result = grouping.flush(group.pk, now=now + timedelta(seconds=31))
    assert result["pages"] == 1
    inhibited = member(rows[0])
    assert inhibited.status == "inhibited"
    assert inhibited.last_error.startswith("inhibited by alert 'HostDown' on web-41")
    assert "web-42" in http_sink.requests[0].body.decode()


def test_a_group_with_nothing_left_sends_nothing_and_says_why(http_sink):
    now = timezone.now()
    rows = [incident(f"web-{n}") for n in (41, 42)]
    group = page_all(rows, now)
    actions.resolve(rows[0].pk, actions.Actor("ann", "api"), "fixed")
    silences.create(["instance=web-42"], comment="reboot", duration="1h", now=now)
    result = grouping.flush(group.pk, now=now + timedelta(seconds=31))
    assert http_sink.requests == []
    assert result["status"] == "not sent" and result["pages"] == 0 and result["delivery"] is None
    assert f"incident #{rows[0].pk} was resolved" in result["error"]
    assert "silenced by silence" in result["error"]
    group.refresh_from_db()
    assert group.status == "closed" and group.delivery is None
    assert not Delivery.objects.filter(idempotency_key=f"group:{group.pk}").exists()
    assert grouping.flush(group.pk, now=now + timedelta(seconds=40)) == {}
