"""When a silence ends (or is expired) while its alerts still fire: one page per open incident.

The sweep (celery beat's sweep task, or `manage.py sweep_runs`) calls `notify_ended_silences`.
For each silence end it has not swept yet, it finds the deliveries that silence held back; for
each incident still open and no longer quiet (another silence or an inhibition may still hold
it), it sends the stored message once more to each target it was held from, with a title that
says why. A resolved incident sends nothing. The new deliveries have idempotency keys of their
own (silence + end + incident + target), so a second sweep, or two at once, never doubles them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.alerts.inhibition import QuietCheck
from apps.alerts.models import ACTIVE_STATUSES, Silence
from apps.alerts.silences import ended_since
from apps.notify.delivery import claim, send_with_retries
from apps.notify.drivers.base import Message
from apps.notify.models import Delivery
from apps.notify.targets import resend_target

# Given a held-back delivery, the config of the notify node that made it (the orchestration
# layer knows runs and definitions; an inline destination's secret is only there).
NodeConfigFor = Callable[[Delivery], "dict[str, Any] | None"]

logger = logging.getLogger(__name__)
Status = Delivery.Status


def notify_ended_silences(
    now: datetime | None = None, node_config_for: NodeConfigFor | None = None
) -> list[dict[str, Any]]:
    """Sweep silence ends up to `now`; returns one entry per delivery made."""
    now = now or timezone.now()
    made: list[dict[str, Any]] = []
    check: QuietCheck | None = None
    for silence, end in ended_since(now):
        held = held_back(silence)
        if held:
            check = check or QuietCheck(now)
            made += [_send_again(row, silence, end, check, node_config_for) for row in held]
        Silence.objects.filter(pk=silence.pk).update(ended_swept_until=end)
    return [entry for entry in made if entry]


def held_back(silence: Silence) -> list[Delivery]:
    """The latest silenced delivery per incident and target of open incidents (one query)."""
    rows = (
        Delivery.objects.filter(
            status=Status.SILENCED,
            last_error__startswith=f"silenced by silence #{silence.pk} (",
            incident__status__in=ACTIVE_STATUSES,
        )
        .select_related("incident", "channel")
        .order_by("-id")[:2000]
    )
    latest: dict[tuple[int, str], Delivery] = {}
    for row in rows:
        latest.setdefault((row.incident_id, row.target), row)
    return list(latest.values())


def _sent_since(row: Delivery) -> bool:
    return Delivery.objects.filter(
        incident_id=row.incident_id,
        target=row.target,
        status=Status.SUCCEEDED,
        kind__in=("trigger", "resolve"),
        id__gt=row.pk,
    ).exists()


def _send_again(
    row: Delivery,
    silence: Silence,
    end: datetime,
    check: QuietCheck,
    node_config_for: NodeConfigFor | None,
) -> dict:
    incident = row.incident
    if incident is None or _sent_since(row):
        return {}
    quiet = check.incident(incident)
    if quiet.reason:
        return {}
    key = f"unsilenced:{silence.pk}:{int(end.timestamp())}:{incident.pk}:{row.target}"[:300]
    message = Message.from_dict(row.message)
    message.title = f"[silence #{silence.pk} ended, still firing] {message.title}"[:500]
    with transaction.atomic():
        new, created = Delivery.objects.get_or_create(
            idempotency_key=key,
            defaults={"channel": row.channel, "driver": row.driver,
                      "destination": row.destination, "target": row.target,
                      "target_config": row.target_config, "message": message.as_dict(),
                      "kind": "trigger", "incident": incident, "node_id": "silence-ended",
                      "severity": row.severity, "status": Status.PENDING},
        )  # fmt: skip
    if not created and new.status != Status.FAILED:
        return {}
    send = resend_target(row, node_config_for(row) if node_config_for else None)
    if isinstance(send, str):
        new.status, new.last_error = Status.FAILED, send
        new.save(update_fields=["status", "last_error"])
    elif claim(new.pk):
        new.refresh_from_db()
        send_with_retries(
            new, send.module, send.config, message, secrets=send.secrets, deadline=None
        )
    logger.info("silence #%s ended: incident #%s %s", silence.pk, incident.pk, new.status)
    return {"silence": silence.pk, "incident": incident.pk, "delivery": new.pk,
            "status": new.status, "error": new.last_error}  # fmt: skip
