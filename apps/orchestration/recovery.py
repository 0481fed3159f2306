"""Runs that lost their worker or their message: the sweep, and the recovery loop every worker
runs on its own (so no beat or cron is needed for a run to finish; they only add sweeps).

A run's message is the source of truth while it exists: a stale RUNNING run whose message is
still in the broker (waiting in a queue, or delivered to a worker that died and not acknowledged)
is left alone, because the broker redelivers that message and its worker takes the run over.
Only runs whose message is gone are re-dispatched, so a healthy backlog is never enqueued twice
and a sweep never marks FAILED a run that its message can still finish.
"""

import base64
import json
import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import Q
from django.utils import timezone

from .models import PipelineRun, RunStatus
from .services import dispatch, release_interrupted_work, stale_cutoff

logger = logging.getLogger(__name__)

RUN_TASKS = ("orchestration.execute_run", "orchestration.execute_runs", "orchestration.resume_run")
# kombu's Redis transport: one list per queue and priority step (metrics.priority_lists), and
# one hash of the messages delivered but not acknowledged (their worker is busy, or died).
UNACKED_KEY = "unacked"
SCAN_CHUNK = 1000


def redis_broker() -> bool:
    return settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://", "unix://"))


def run_ids_of(raw: bytes | str) -> list[int]:
    """The run ids a Celery message of a run task carries (execute_runs carries several);
    none for any other message."""
    try:
        message = json.loads(raw)
        if isinstance(message, list):  # an unacked entry: [message, exchange, routing key]
            message = message[0]
        if message.get("headers", {}).get("task") not in RUN_TASKS:
            return []
        body = message["body"]
        if message.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        first = json.loads(body)[0][0]
        return [int(run_id) for run_id in first] if isinstance(first, list) else [int(first)]
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return []


def queued_run_ids() -> set[int] | None:
    """Ids of runs that have a message in the broker, or None when that cannot be known (no
    Redis broker, or the broker does not answer)."""
    if not redis_broker():
        return None
    import redis

    from apps.common.metrics import celery_queue_names, priority_lists

    timeout = settings.CELERY_BROKER_TIMEOUT_S
    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL, socket_timeout=timeout, socket_connect_timeout=timeout
    )
    found: set[int] = set()
    try:
        keys = [key for name in celery_queue_names() for key in priority_lists(name)]
        for key in keys:
            start = 0
            while chunk := client.lrange(key, start, start + SCAN_CHUNK - 1):
                for raw in chunk:
                    found.update(run_ids_of(raw))
                start += SCAN_CHUNK
        for _tag, raw in client.hscan_iter(UNACKED_KEY, count=SCAN_CHUNK):
            found.update(run_ids_of(raw))
    except redis.RedisError as exc:
        logger.warning("sweep: the broker did not answer, runs left as they are: %s", exc)
        return None
    finally:
        client.close()
    return found


def _stuck_runs(cutoff: Any) -> list[tuple]:
    return list(
        PipelineRun.objects.filter(status=RunStatus.RUNNING)
        .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff))
        .values_list("pk", "claimed_by", "heartbeat_at", "recoveries")
    )


def _fail(run_id: int, beat: Any, error: str) -> bool:
    updated = PipelineRun.objects.filter(
        pk=run_id, status=RunStatus.RUNNING, heartbeat_at=beat
    ).update(status=RunStatus.FAILED, error=error, finished_at=timezone.now())
    if updated:
        release_interrupted_work(run_id)  # no delivery of a FAILED run stays `sending`
    return bool(updated)


def sweep_runs(
    *, requeue: bool = False, dry_run: bool = False, background: bool = True
) -> dict[str, list[int]]:
    """Find runs that lost their worker (RUNNING, heartbeat older than PIPELINE_STALE_AFTER_S)
    or their message (PENDING that long, and not in the broker).

    - a run whose message is still in the broker is left to it (`awaiting_redelivery`);
    - a run recovered PIPELINE_MAX_RECOVERIES times is marked FAILED;
    - a stuck run whose message is lost is re-dispatched with `requeue` (its next worker takes
      it over and resumes from the interrupted node), else marked FAILED (resumable);
    - a PENDING run whose message is lost is re-dispatched with `requeue`.
    Without a broker (runs execute in the process that started them) there is never a message:
    every stuck or waiting run counts as lost. When the broker cannot be read, nothing changes.
    """
    cutoff = stale_cutoff()
    stuck = _stuck_runs(cutoff)
    waiting = list(
        PipelineRun.objects.filter(status=RunStatus.PENDING, created_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    result: dict[str, list[int]] = {
        "failed": [],
        "requeued": [],
        "pending_redispatched": [],
        "awaiting_redelivery": [],
        "unchecked": [],
    }
    if not stuck and not waiting:
        return result
    queued: set[int] | None = set()
    if settings.PIPELINE_RUNNER == "celery":
        queued = queued_run_ids()
    limit = settings.PIPELINE_MAX_RECOVERIES
    for run_id, worker, beat, recoveries in stuck:
        lost = (
            f"worker lost: no heartbeat since {beat.isoformat() if beat else 'start'}"
            f" from {worker or 'unknown worker'}"
        )
        if recoveries >= limit:
            error = f"{lost}; not recovered again (it already was {recoveries} times)"
            if dry_run or _fail(run_id, beat, error):
                result["failed"].append(run_id)
        elif queued is None:
            result["unchecked"].append(run_id)
        elif run_id in queued:
            result["awaiting_redelivery"].append(run_id)
        elif requeue:
            result["requeued"].append(run_id)
        else:
            error = f"{lost}; its message is lost (resume it with run_pipeline --resume {run_id})"
            if dry_run or _fail(run_id, beat, error):
                result["failed"].append(run_id)
    if queued is None:
        result["unchecked"] += waiting
    else:
        lost_pending = [run_id for run_id in waiting if run_id not in queued]
        result["awaiting_redelivery"] += [run_id for run_id in waiting if run_id in queued]
        if requeue:
            result["pending_redispatched"] = lost_pending
    if requeue and not dry_run:
        # A stuck run is taken over by whoever executes it next (claim_run); a PENDING one
        # simply starts. Both still in their state: a duplicate message does nothing twice.
        still = PipelineRun.objects.filter(
            pk__in=result["requeued"] + result["pending_redispatched"],
            status__in=(RunStatus.PENDING, RunStatus.RUNNING),
        ).values_list("pk", flat=True)
        dispatch(sorted(still), background=background)
    return result


# --- the recovery loop of every worker ------------------------------------------------------

LOCK_KEY = "incident-pipeline:recovery"
_loop_started = threading.Event()


def _take_turn(every_s: float) -> bool:
    """One worker per period sweeps (a broker key that expires); without Redis, every one."""
    if not redis_broker():
        return True
    import redis

    timeout = settings.CELERY_BROKER_TIMEOUT_S
    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL, socket_timeout=timeout, socket_connect_timeout=timeout
    )
    try:
        return bool(client.set(LOCK_KEY, "1", nx=True, px=max(1, int(every_s * 1000 * 0.9))))
    finally:
        client.close()


def periodic_sweep(*, background: bool = True) -> dict:
    """Everything that must happen on time without a request: lost runs, silent hosts, pages
    due because a silence ended, grouped notifications due, repeats of still-firing incidents.
    Beat's task and each worker's recovery loop run this same sweep."""
    from apps.notify.repeat import notify_repeats
    from apps.notify.unsilence import notify_ended_silences

    from .group_flush import flush_due_groups
    from .services import delivery_node_config
    from .triggers import silent_hosts_alerted

    result: dict = dict(sweep_runs(requeue=True))
    result["silent_hosts"] = silent_hosts_alerted(background=background)
    result["silences_ended"] = notify_ended_silences(node_config_for=delivery_node_config)
    result["groups_flushed"] = flush_due_groups()
    result["repeated"] = notify_repeats(delivery_node_config)
    return result


def recover_once(every_s: float) -> dict[str, list[int]] | None:
    """The periodic sweep, if it is this worker's turn; None when it was not."""
    try:
        if not _take_turn(every_s):
            return None
        result = periodic_sweep()
        moved = result["requeued"] + result["pending_redispatched"]
        if moved or result["failed"]:
            logger.warning(
                "recovery: re-dispatched runs %s, failed %s", moved or "none", result["failed"]
            )
        return result
    except Exception as exc:  # the database or the broker is down: try again next period
        logger.warning("recovery: sweep not done: %s: %s", type(exc).__name__, exc)
        return None
    finally:
        connections.close_all()  # this thread's own connections: none is held between sweeps


def start_recovery_loop() -> bool:
    """Sweep now and every PIPELINE_SWEEP_EVERY_S in a daemon thread of this worker (once)."""
    if _loop_started.is_set():
        return False
    _loop_started.set()
    every_s = settings.PIPELINE_SWEEP_EVERY_S

    def loop() -> None:
        while True:
            recover_once(every_s)
            time.sleep(every_s)

    threading.Thread(target=loop, name="run-recovery", daemon=True).start()
    return True
