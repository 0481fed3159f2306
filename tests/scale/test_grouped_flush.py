"""A grouped notification whose worker is SIGKILLed while sending it: once the dead worker's claim
is stale, the sweep (celery beat's task, run on another worker) sends the group's one message;
the members are settled once and further flushes send nothing."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.alerts.models import Alert, Incident
from apps.notify import grouping
from apps.notify.delivery import claim_stale_s
from apps.notify.models import Delivery, NotificationChannel, NotificationGroup
from apps.notify.services import notify
from apps.orchestration.tasks import flush_group_task, sweep_runs_task

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Claims go stale after NOTIFY_MAX_ATTEMPTS x (OUTBOUND_TIMEOUT_S + NOTIFY_BACKOFF_MAX_S) + 30 s.
FAST_CLAIMS = {"NOTIFY_MAX_ATTEMPTS": 1, "OUTBOUND_TIMEOUT_S": 7, "NOTIFY_BACKOFF_MAX_S": 0.5}


def wait_until(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_group_whose_worker_died_mid_send_is_sent_once_by_the_sweep(workers, http_sink, settings):
    for name, value in FAST_CLAIMS.items():
        setattr(settings, name, value)
    NotificationChannel.objects.create(
        name="hook", driver="generic", config={"url": f"{http_sink.url}/hook"}
    )
    for name in ("DiskFull", "Load"):
        incident = Incident.objects.create(title=f"{name} on web-07", group_key=name)
        Alert.objects.create(source="s", fingerprint=name, name=name, status="firing",
                             severity="warning", incident=incident)  # fmt: skip
        notify(config={"channel": "hook", "group_wait": 1},
               message_context={"incident": incident.as_dict()}, incident=incident)  # fmt: skip
    group = NotificationGroup.objects.get()
    NotificationGroup.objects.filter(pk=group.pk).update(
        send_after=timezone.now() - timedelta(seconds=1)
    )
    # The workers' own periodic sweep would flush the group too; this test drives the sweep.
    env = {**FAST_CLAIMS, "CELERY_VISIBILITY_TIMEOUT_S": 5, "PIPELINE_WORKER_RECOVERY": "0"}
    team = workers(**env)
    doomed = team.start("doomed", concurrency=1)
    http_sink.delay_s = 6
    flush_group_task.apply_async(args=[group.pk])
    wait_until(lambda: len(http_sink.requests) == 1, 30, "the group's message to be in flight")
    team.kill(doomed)
    row = Delivery.objects.get(idempotency_key=f"group:{group.pk}")
    assert row.status == "sending"
    http_sink.delay_s = 0
    team.start("rescuer", concurrency=1)
    sweep_runs_task.apply_async()  # too early: the claim is not stale yet, nothing is sent
    stale_at = time.monotonic() + claim_stale_s() + 1
    wait_until(lambda: time.monotonic() > stale_at, claim_stale_s() + 5, "the claim to go stale")
    assert Delivery.objects.get(pk=row.pk).status == "sending"
    assert len(http_sink.requests) == 1
    sweep_runs_task.apply_async()
    wait_until(
        lambda: Delivery.objects.get(pk=row.pk).status == "succeeded", 60, "the sweep's send"
    )
    assert len(http_sink.requests) == 2  # in flight at the crash, then sent: at-least-once
    assert "2 incidents" in http_sink.requests[1].body.decode()
    members = Delivery.objects.filter(group=group)
    assert set(members.values_list("status", flat=True)) == {"succeeded"}
    assert grouping.flush(group.pk) == {}
    assert Delivery.objects.filter(idempotency_key__startswith="group:").count() == 1
    assert len(http_sink.requests) == 2
