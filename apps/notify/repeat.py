"""repeat_interval: an incident still firing is notified again once its node's interval passed.

Runs start only when alerts change, so a quiet incident that keeps firing would never be paged
again; the sweep calls `notify_repeats`. For the latest successful trigger page of each open
incident and destination, it reads the node's `repeat_interval` (through the orchestration
layer's `node_config_for`: the config is in the run's definition), and when that long has
passed, the incident still has a firing alert and is not silenced or inhibited, it sends the
stored message again titled `[still firing] ...`. The new delivery's key names the page it
repeats, so two sweeps never double it; the next repeat counts from it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from apps.alerts.inhibition import QuietCheck
from apps.alerts.models import ACTIVE_STATUSES, Alert
from apps.notify.delivery import claim, send_with_retries
from apps.notify.drivers.base import Message
from apps.notify.grouping import NodeConfigFor, group_settings, grouping_problems
from apps.notify.models import Delivery
from apps.notify.targets import resend_target

Status = Delivery.Status
MAX_ROWS = 5000


def latest_pages(now: datetime) -> list[Delivery]:
    """The latest successful trigger page per open incident and destination (one query)."""
    rows = (
        Delivery.objects.filter(
            status=Status.SUCCEEDED, kind="trigger", incident__status__in=ACTIVE_STATUSES
        )
        .exclude(sent_at=None)
        .select_related("incident", "channel", "pipeline_run")
        .order_by("-sent_at", "-id")[:MAX_ROWS]
    )
    latest: dict[tuple[int, str], Delivery] = {}
    for row in rows:
        if row.incident_id is not None and row.node_id != "":
            latest.setdefault((row.incident_id, row.target), row)
    return list(latest.values())


def _repeat_after(row: Delivery, node_config_for: NodeConfigFor) -> float | None:
    config = node_config_for(row)
    if not isinstance(config, dict) or grouping_problems(config):
        return None
    return group_settings(config).repeat


def notify_repeats(
    node_config_for: NodeConfigFor, now: datetime | None = None
) -> list[dict[str, Any]]:
    now = now or timezone.now()
    made = []
    check: QuietCheck | None = None
    for row in latest_pages(now):
        repeat = _repeat_after(row, node_config_for)
        if not repeat or row.sent_at is None or row.sent_at + timedelta(seconds=repeat) > now:
            continue
        if not Alert.objects.filter(incident_id=row.incident_id, status="firing").exists():
            continue
        check = check or QuietCheck(now)
        if check.incident(row.incident).reason:
            continue
        made.append(_send_again(row, node_config_for, now))
    return [entry for entry in made if entry]


def _send_again(row: Delivery, node_config_for: NodeConfigFor, now: datetime) -> dict[str, Any]:
    key = f"repeat:{row.pk}"
    message = Message.from_dict(row.message)
    if not message.title.startswith("[still firing] "):
        message.title = f"[still firing] {message.title}"[:500]
    new, created = Delivery.objects.get_or_create(
        idempotency_key=key,
        defaults={"channel": row.channel, "driver": row.driver, "destination": row.destination,
                  "target": row.target, "target_config": row.target_config,
                  "message": message.as_dict(), "kind": "trigger", "incident": row.incident,
                  "pipeline_run": row.pipeline_run, "node_id": row.node_id,
                  "severity": row.severity, "status": Status.PENDING, "created_at": now},
    )  # fmt: skip
    if not created and new.status != Status.FAILED:
        return {}
    send = resend_target(row, node_config_for(row))
    problem = send if isinstance(send, str) else ""
    if not isinstance(send, str) and claim(new.pk):
        new.refresh_from_db()
        send_with_retries(new, send.module, send.config, message, secrets=send.secrets,
                          deadline=None)  # fmt: skip
    if problem:
        new.status, new.last_error = Status.FAILED, problem
        new.save(update_fields=["status", "last_error"])
    return {"incident": row.incident_id, "delivery": new.pk, "repeats": row.pk,
            "status": new.status, "error": new.last_error}  # fmt: skip
