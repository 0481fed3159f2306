"""When grouped notifications go out: a Celery task due at the group's send_after (with a
broker), else a timer thread in this process; the sweep flushes any group still due either
way (a worker or process that died, a CLI run that exited). See apps.notify.grouping."""

import logging
import threading
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from apps.notify import grouping

from .services import delivery_node_config

logger = logging.getLogger(__name__)
# Timers started in this process (tests cancel them; nothing else needs them).
pending_timers: list[threading.Timer] = []


def flush_group(group_id: int, now: datetime | None = None) -> dict[str, Any]:
    return grouping.flush(group_id, now, node_config_for=delivery_node_config)


def flush_due_groups(now: datetime | None = None) -> list[dict[str, Any]]:
    results = [flush_group(group_id, now) for group_id in grouping.due(now)]
    return [result for result in results if result]


def schedule(opened: list[dict[str, Any]]) -> None:
    """Arrange for each newly opened group to be flushed when it is due."""
    for entry in opened:
        due_at = datetime.fromisoformat(entry["send_after"])
        delay = max(0.0, (due_at - timezone.now()).total_seconds())
        group_id = int(entry["group"])
        if settings.CELERY_BROKER_URL:
            transaction.on_commit(lambda g=group_id, d=delay: _enqueue(g, d))
        else:
            timer = threading.Timer(delay, _flush_in_thread, args=[group_id])
            timer.daemon = True
            pending_timers.append(timer)
            transaction.on_commit(timer.start)


def _enqueue(group_id: int, delay: float) -> None:
    from .tasks import flush_group_task

    try:
        flush_group_task.apply_async(args=[group_id], countdown=delay)
    except Exception:  # the broker is down: the sweep flushes it when due
        logger.warning("could not queue the flush of notification group %s", group_id)


def _flush_in_thread(group_id: int) -> None:
    try:
        flush_group(group_id)
    except Exception:
        logger.exception("flushing notification group %s failed", group_id)
    finally:
        close_old_connections()
