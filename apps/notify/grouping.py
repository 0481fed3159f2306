"""Grouped notifications: `group_wait`, `group_interval` and `group_by` of a notify node.

With a group_wait above zero, a trigger page is not sent at once: its Delivery row (rendered,
status `grouped`) joins the NotificationGroup of its node, target and `group_by` label values,
collecting for group_wait. When the group is due, `flush` sends one message listing every page
in it, through one Delivery row (idempotency key `group:<id>`, claimed like any other, so a
redelivered task or a second sweep never sends it twice), and settles each member with that
row's outcome. A new group with the same key is due no sooner than group_interval after the
last one. group_wait 0 (the default) sends at once, as before grouping existed.

PagerDuty keeps one event per incident, so its pages are not grouped.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.common import cron
from apps.common.redact import redact
from apps.common.severity import rank
from apps.common.text import shown
from apps.notify.delivery import DONE, claim, send_with_retries
from apps.notify.drivers.base import Message
from apps.notify.models import Delivery, NotificationGroup
from apps.notify.targets import resend_target

logger = logging.getLogger(__name__)
Status = Delivery.Status
UNGROUPED_DRIVERS = ("pagerduty", "console")
MAX_LISTED = 50
BUSY = "being sent by another worker"
NodeConfigFor = Callable[[Delivery], "dict[str, Any] | None"]


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise cron.CronError(f"{shown(value)} is not a number of seconds or a duration like 30s")
    if isinstance(value, str):
        return 0.0 if value.strip() in ("0", "0s") else cron.parse_duration(value).total_seconds()
    if value < 0 or value > 7 * 86400:
        raise cron.CronError(f"{value} must be between 0 and 604800 seconds")
    return float(value)


def grouping_problems(config: dict[str, Any]) -> list[str]:
    problems = []
    for key in ("group_wait", "group_interval", "repeat_interval"):
        if key in config:
            try:
                _seconds(config[key])
            except cron.CronError as exc:
                problems.append(f"'{key}': {exc}")
    by = config.get("group_by", [])
    if not isinstance(by, list) or not all(isinstance(name, str) and name for name in by):
        problems.append("'group_by' must be a list of label names")
    return problems


@dataclass(frozen=True)
class GroupSettings:
    wait: float
    interval: float
    repeat: float | None
    by: tuple[str, ...]


def group_settings(config: dict[str, Any]) -> GroupSettings:
    """A node's grouping (validated before: see grouping_problems)."""
    wait = config.get("group_wait", settings.NOTIFY_GROUP_WAIT_S)
    interval = config.get("group_interval", settings.NOTIFY_GROUP_INTERVAL_S)
    repeat = config.get("repeat_interval")
    return GroupSettings(
        wait=_seconds(wait),
        interval=_seconds(interval),
        repeat=_seconds(repeat) if repeat is not None else None,
        by=tuple(config.get("group_by") or ()),
    )


def group_values(incident: Any, by: tuple[str, ...]) -> dict[str, str]:
    """The group_by label values of an incident (from its first firing alert, else its first)."""
    if not by or incident is None:
        return {}
    from apps.alerts.silences import alert_labels

    alert = incident.alerts.order_by("status", "id").first()  # "firing" sorts first
    labels = alert_labels(alert) if alert is not None else {}
    return {name: labels.get(name, "") for name in by}


def join(
    row: Delivery, grouping: GroupSettings, incident: Any, now: datetime | None = None
) -> tuple[NotificationGroup, bool]:
    """Put a rendered page in its collecting group (made if none); True when it was made."""
    now = now or timezone.now()
    labels = group_values(incident, grouping.by)
    raw = json.dumps([row.node_id, row.target, sorted(labels.items())])
    key = f"{row.node_id}:{row.target}:{hashlib.sha256(raw.encode()).hexdigest()[:16]}"[:300]
    for _ in range(3):  # two first pages at once: one makes the group, the other joins it
        try:
            with transaction.atomic():
                group = (
                    NotificationGroup.objects.select_for_update()
                    .filter(key=key, status=NotificationGroup.Status.COLLECTING)
                    .first()
                )
                created = group is None
                if group is None:
                    group = _open(key, row.node_id, labels, grouping, now)
                row.group, row.status = group, Status.GROUPED
                row.last_error = (
                    f"waiting in group #{group.pk} until "
                    f"{group.send_after.strftime('%H:%M:%S')} UTC (group_wait {grouping.wait:g}s)"
                )
                row.updated_at = now
                row.save(update_fields=["group", "status", "last_error", "updated_at"])
            return group, created
        except IntegrityError:
            continue
    raise RuntimeError(f"could not open or join notification group {key}")


def _open(key: str, node_id: str, labels: dict, grouping: GroupSettings, now: datetime):
    send_after = now + timedelta(seconds=grouping.wait)
    last = (
        NotificationGroup.objects.filter(key=key, status=NotificationGroup.Status.CLOSED)
        .order_by("-send_after")
        .first()
    )
    if last is not None:
        send_after = max(send_after, last.send_after + timedelta(seconds=grouping.interval))
    return NotificationGroup.objects.create(
        key=key, node_id=node_id, labels=labels, send_after=send_after, created_at=now
    )


def combined(members: list[Delivery]) -> Message:
    """One message listing the pages of a group (the page itself when it is alone)."""
    messages = [Message.from_dict(member.message) for member in members]
    if len(messages) == 1:
        return messages[0]
    first = messages[0]
    worst = max(messages, key=lambda m: rank(m.severity)).severity
    hosts = {m.host for m in messages}
    lines = [f"- [{m.severity}] {m.title}" for m in messages[:MAX_LISTED]]
    if len(messages) > MAX_LISTED:
        lines.append(f"- ... and {len(messages) - MAX_LISTED} more")
    items = "".join(f"<li>{html.escape(line[2:])}</li>" for line in lines)
    return Message(
        kind="trigger",
        title=f"{len(messages)} incidents: {first.title} (+{len(messages) - 1} more)"[:500],
        text="\n".join(lines),
        html=f"<p>{len(messages)} incidents</p><ul>{items}</ul>" if first.html else "",
        severity=worst,
        status=first.status,
        host=first.host if len(hosts) == 1 else "",
        dedup_key=f"group-{members[0].group_id}",
        incident_id=first.incident_id,
        trace_id=first.trace_id,
        source=first.source,
        environment=first.environment,
    )


def due(now: datetime | None = None) -> list[int]:
    """Groups to flush: collecting ones past send_after, and closed ones whose send was left
    unfinished by a worker that died (claim decides whether it is really abandoned)."""
    now = now or timezone.now()
    collecting = NotificationGroup.objects.filter(
        status=NotificationGroup.Status.COLLECTING, send_after__lte=now
    )
    unfinished = NotificationGroup.objects.filter(
        status=NotificationGroup.Status.CLOSED,
        delivery__status__in=(Status.PENDING, Status.SENDING),
    )
    ids = list(collecting.values_list("id", flat=True)[:1000])
    return ids + list(unfinished.values_list("id", flat=True)[:1000])


def flush(
    group_id: int, now: datetime | None = None, node_config_for: NodeConfigFor | None = None
) -> dict[str, Any]:
    """Send a due group's one message; safe to call twice or from two workers at once."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = NotificationGroup.objects.select_for_update(skip_locked=True, of=("self",))
        group = locked.filter(pk=group_id)
        found = group.select_related("delivery").first()
        if found is None:
            return {}
        if found.status == NotificationGroup.Status.COLLECTING:
            if found.send_after > now:
                return {}
            row = _close(found, now)
            if row is None:
                return _nothing_sent(found)
        else:
            row = found.delivery
        if row is None or row.status in DONE:
            return {}
    if not claim(row.pk):
        return {"group": group_id, "delivery": row.pk, "status": BUSY}
    row.refresh_from_db()
    _send(row, node_config_for)
    count = _settle(found, row, now)
    return {"group": group_id, "delivery": row.pk, "status": row.status, "pages": count}


def still_to_send(rows: list[Delivery], now: datetime) -> list[Delivery]:
    """The members whose incident still calls for this page at flush time; the others are
    settled here, each with why it is not sent (resolved, silenced or inhibited meanwhile)."""
    from apps.alerts.inhibition import QuietCheck, record_quiet
    from apps.alerts.models import Incident

    ids = [row.incident_id for row in rows if row.incident_id]
    resolved = set(
        Incident.objects.filter(pk__in=ids, status=Incident.Status.RESOLVED).values_list(
            "pk", flat=True
        )
    )
    verdicts = QuietCheck(now).incidents([pk for pk in ids if pk not in resolved])
    kept = []
    for row in rows:
        quiet = verdicts.get(row.incident_id or 0)
        if row.incident_id in resolved and row.kind != "resolve":
            status = Status.THROTTLED
            reason = f"not sent: incident #{row.incident_id} was resolved before its group was sent"
        elif quiet is not None and quiet.reason and row.kind != "resolve":
            status, reason = Status(quiet.kind), quiet.reason
            record_quiet(quiet)
        else:
            kept.append(row)
            continue
        row.status, row.last_error, row.updated_at = status, reason, now
        row.save(update_fields=["status", "last_error", "updated_at"])
    return kept


def _nothing_sent(group: NotificationGroup) -> dict[str, Any]:
    settled = group.members.exclude(status=Status.GROUPED)
    reasons = list(settled.values_list("last_error", flat=True))
    why = "; ".join(dict.fromkeys(reasons)) or "the group had no page left"
    logger.info("notification group %s sent nothing: %s", group.pk, why)
    return {"group": group.pk, "delivery": None, "status": "not sent", "error": why, "pages": 0}


def _close(group: NotificationGroup, now: datetime) -> Delivery | None:
    rows = list(group.members.filter(status=Status.GROUPED).order_by("id"))
    kept = still_to_send(rows, now)
    latest = {row.incident_id or -row.pk: row for row in kept}  # an incident once: its latest
    members = sorted(latest.values(), key=lambda row: row.pk)
    group.status = NotificationGroup.Status.CLOSED
    if not members:
        group.save(update_fields=["status"])
        return None
    message = combined(members)
    first = members[0]
    row = Delivery.objects.create(
        idempotency_key=f"group:{group.pk}", channel=first.channel, driver=first.driver,
        destination=first.destination, target=first.target, target_config=first.target_config,
        message=redact(message.as_dict()), kind="trigger", incident=first.incident,
        pipeline_run=first.pipeline_run, node_id=first.node_id, severity=message.severity[:20],
        status=Status.PENDING, created_at=now, updated_at=now,
    )  # fmt: skip
    group.delivery = row
    group.save(update_fields=["status", "delivery"])
    return row


def _send(row: Delivery, node_config_for: NodeConfigFor | None) -> None:
    send = resend_target(row, node_config_for(row) if node_config_for else None)
    if not isinstance(send, str):
        message = Message.from_dict(row.message)
        send_with_retries(
            row, send.module, send.config, message, secrets=send.secrets, deadline=None
        )
        return
    problem = send
    row.status, row.last_error, row.updated_at = Status.FAILED, problem, timezone.now()
    row.save(update_fields=["status", "last_error", "updated_at"])


def _settle(group: NotificationGroup, row: Delivery, now: datetime) -> int:
    members = Delivery.objects.filter(group=group, status=Status.GROUPED)
    if row.status == Status.SUCCEEDED:
        note = f"sent in one message for the group (delivery {row.pk})"
    else:
        note = f"the group's delivery {row.pk} failed: {row.last_error}"
    return members.update(status=row.status, sent_at=row.sent_at, last_error=note, updated_at=now)
