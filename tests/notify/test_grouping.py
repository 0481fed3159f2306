"""Grouped notifications: group_wait collects pages into one message per target and group_by
values, group_interval spaces later groups, a flush run twice sends once, and group_wait 0
keeps today's behaviour. The clock is injected into join/flush; nothing sleeps."""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.alerts.models import Alert, Incident
from apps.notify import grouping
from apps.notify.models import Delivery, NotificationChannel, NotificationGroup
from apps.notify.services import notify, validate_notify_config
from apps.orchestration import group_flush
from apps.orchestration.models import PipelineDefinition
from apps.orchestration.services import execute_run
from apps.orchestration.triggers import ingest_and_start

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_timers():
    yield
    for timer in group_flush.pending_timers:
        timer.cancel()
    group_flush.pending_timers.clear()


@pytest.fixture(autouse=True)
def hook(http_sink):
    # A named channel: its destination is stored, so a later flush can reach it (an inline
    # destination is found again through the run's definition, see the pipeline test).
    return NotificationChannel.objects.create(
        name="hook", driver="generic", config={"url": f"{http_sink.url}/hook"}
    )


def incident(name, host, team="ops"):
    row = Incident.objects.create(title=f"{name} on {host}", group_key=f"{name}|{host}", host=host)
    Alert.objects.create(source="alertmanager", fingerprint=f"{name}{host}", name=name,
                         host=host, status="firing", severity="warning", incident=row,
                         labels={"alertname": name, "team": team})  # fmt: skip
    return row


def page(config, row):
    return notify(config=config, message_context={"incident": row.as_dict()}, incident=row,
                  node_id="page")  # fmt: skip


def test_pages_within_group_wait_go_out_as_one_message_listing_them(http_sink):
    config = {"channel": "hook", "group_wait": "30s"}
    rows = [incident(f"Disk{i}", "web-07") for i in range(3)]
    outputs = [page(config, row) for row in rows]
    assert http_sink.requests == []
    assert [o["channels_grouped"] for o in outputs] == [1, 1, 1]
    assert "groups_opened" in outputs[0] and "groups_opened" not in outputs[1]
    group = NotificationGroup.objects.get()
    assert group.members.count() == 3
    assert grouping.flush(group.pk, now=timezone.now()) == {}  # not due yet
    later = timezone.now() + timedelta(seconds=31)
    result = grouping.flush(group.pk, now=later)
    assert result["status"] == "succeeded" and result["pages"] == 3
    assert len(http_sink.requests) == 1
    body = http_sink.requests[0].body.decode()
    assert "3 incidents" in body and all(f"Disk{i}" in body for i in range(3))
    assert set(Delivery.objects.filter(group=group).values_list("status", flat=True)) == {
        "succeeded"
    }
    assert grouping.flush(group.pk, now=later) == {}  # a second flush sends nothing
    assert len(http_sink.requests) == 1


def test_group_by_splits_groups_and_group_interval_spaces_the_next_one(http_sink):
    config = {"channel": "hook", "group_wait": 10,
              "group_interval": "5m", "group_by": ["team"]}  # fmt: skip
    page(config, incident("A", "web-1", team="ops"))
    page(config, incident("B", "web-2", team="db"))
    assert NotificationGroup.objects.count() == 2
    now = timezone.now() + timedelta(seconds=11)
    assert len(group_flush.flush_due_groups(now)) == 2
    assert len(http_sink.requests) == 2
    output = page(config, incident("C", "web-3", team="ops"))
    due = timezone.datetime.fromisoformat(output["groups_opened"][0]["send_after"])
    first = NotificationGroup.objects.filter(labels={"team": "ops"}).order_by("id").first()
    assert due >= first.send_after + timedelta(minutes=5)


def test_two_workers_flushing_one_group_send_it_once(http_sink):
    config = {"channel": "hook", "group_wait": 1}
    page(config, incident("A", "web-1"))
    page(config, incident("B", "web-2"))
    group = NotificationGroup.objects.get()
    later = timezone.now() + timedelta(seconds=2)
    barrier = threading.Barrier(2)

    def flush():
        barrier.wait()
        grouping.flush(group.pk, now=later)

    threads = [threading.Thread(target=flush) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    grouping.flush(group.pk, now=later)  # and a redelivered task afterwards
    assert len(http_sink.requests) == 1
    assert Delivery.objects.filter(idempotency_key=f"group:{group.pk}").count() == 1


def test_a_send_left_unfinished_by_a_dead_worker_is_sent_by_the_sweep(http_sink, settings):
    config = {"channel": "hook", "group_wait": 1}
    page(config, incident("A", "web-1"))
    page(config, incident("B", "web-2"))
    group = NotificationGroup.objects.get()
    later = timezone.now() + timedelta(seconds=2)
    grouping._close(group, later)  # the worker closed the group, then died before sending
    Delivery.objects.filter(idempotency_key=f"group:{group.pk}").update(status="pending")
    assert group.pk in grouping.due(later)
    group_flush.flush_due_groups(later)
    assert len(http_sink.requests) == 1
    assert Delivery.objects.filter(group=group, status="succeeded").count() == 2


def test_group_wait_zero_is_todays_behaviour(http_sink):
    config = {"channel": "hook"}
    output = page(config, incident("A", "web-1"))
    assert output["channels_succeeded"] == 1 and len(http_sink.requests) == 1
    assert not NotificationGroup.objects.exists()


def test_repeat_interval_replaces_the_throttle_window(http_sink):
    config = {"channel": "hook", "repeat_interval": "1h"}
    row = incident("A", "web-1")
    page(config, row)
    again = notify(config=config, message_context={"incident": row.as_dict()}, incident=row,
                   node_id="page", pipeline_run=None)  # fmt: skip
    assert again["channels_throttled"] == 1
    assert "repeat_interval=3600" in again["deliveries"][0]["error"]


@pytest.mark.parametrize(
    ("change", "message"),
    [({"group_wait": "soon"}, "'group_wait'"), ({"group_by": "team"}, "'group_by'"),
     ({"group_interval": -1}, "'group_interval'")],
)  # fmt: skip
def test_bad_grouping_is_a_validation_problem(change, message):
    problems = validate_notify_config({"driver": "generic", "url": "http://x"} | change)
    assert any(message in problem for problem in problems)


def test_a_pipeline_with_group_wait_sends_one_message_for_a_storm(http_sink):
    PipelineDefinition.objects.create(
        name="grouped", priority=1, is_active=True, match={"source": "alertmanager"},
        config={"version": "1", "nodes": [
            {"id": "ingest", "type": "ingest", "next": "page"},
            {"id": "page", "type": "notify", "config": {
                "driver": "generic", "url": f"{http_sink.url}/hook", "group_wait": "30s"}}]},
    )  # fmt: skip
    alerts = [{"status": "firing", "labels": {"alertname": f"Disk{i}", "instance": "web-07"}}
              for i in range(20)]  # fmt: skip
    body = {"version": "4", "groupKey": "{}", "status": "firing", "alerts": alerts}
    triggered = ingest_and_start(body, "alertmanager", "t", dispatch_runs=False)
    for run_id in triggered.run_ids:
        execute_run(run_id)
    assert http_sink.requests == []
    assert len(group_flush.pending_timers) == 1  # one flush arranged, for the one group
    group_flush.flush_due_groups(timezone.now() + timedelta(seconds=31))
    assert len(http_sink.requests) == 1
    assert "20 incidents" in http_sink.requests[0].body.decode()


def test_the_sweep_pages_a_still_firing_incident_again_after_repeat_interval(http_sink):
    from apps.notify.repeat import notify_repeats
    from apps.orchestration.services import delivery_node_config

    PipelineDefinition.objects.create(
        name="repeating", priority=1, is_active=True, match={"source": "alertmanager"},
        config={"version": "1", "nodes": [
            {"id": "ingest", "type": "ingest", "next": "page"},
            {"id": "page", "type": "notify", "config": {
                "driver": "generic", "url": f"{http_sink.url}/hook", "repeat_interval": "1h"}}]},
    )  # fmt: skip
    body = {"version": "4", "groupKey": "{}", "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": "DiskFull", "instance": "web-07"}}]}  # fmt: skip
    for run_id in ingest_and_start(body, "alertmanager", "t", dispatch_runs=False).run_ids:
        execute_run(run_id)
    assert len(http_sink.requests) == 1
    now = timezone.now()
    assert notify_repeats(delivery_node_config, now + timedelta(minutes=59)) == []
    repeated = notify_repeats(delivery_node_config, now + timedelta(minutes=61))
    assert [entry["status"] for entry in repeated] == ["succeeded"]
    assert "[still firing]" in http_sink.requests[1].body.decode()
    # The repeat was stamped with the real clock; move it to the injected one.
    Delivery.objects.filter(pk=repeated[0]["delivery"]).update(sent_at=now + timedelta(minutes=61))
    assert notify_repeats(delivery_node_config, now + timedelta(minutes=62)) == []
    assert len(http_sink.requests) == 2
    assert len(notify_repeats(delivery_node_config, now + timedelta(minutes=122))) == 1
    Alert.objects.update(status="resolved")
    assert notify_repeats(delivery_node_config, now + timedelta(hours=5)) == []
    assert len(http_sink.requests) == 3
