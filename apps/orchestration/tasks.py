"""Celery tasks: they take ids, are safe to run twice, and are acknowledged late."""

import logging
from typing import Any

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from .models import PipelineRun, RunStatus
from .priority import DEFAULT as DEFAULT_PRIORITY
from .recovery import periodic_sweep, start_recovery_loop
from .services import RunError, execute_run, publish, resume_run

logger = logging.getLogger(__name__)


def node_name(task: Any) -> str:
    """The worker's node name (`-n name@host`): two workers on one host differ."""
    return str(getattr(task.request, "hostname", None) or "celery@unknown")


@shared_task(
    bind=True,
    name="orchestration.execute_run",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
)
def execute_run_task(self, run_id: int) -> str:
    status = execute_or_report_missing(run_id, node_name(self))
    if status == "RUNNING":
        # Another worker holds the run with a fresh heartbeat (or died a moment ago). Look again
        # once its heartbeat could have gone stale: then it finished, or this worker takes over.
        raise self.retry(countdown=settings.PIPELINE_STALE_AFTER_S)
    return status


@shared_task(
    bind=True,
    name="orchestration.execute_runs",
    acks_late=True,
    reject_on_worker_lost=True,
)
def execute_runs_task(self, run_ids: list[int], priorities: list[int] | None = None) -> str:
    """Runs that one webhook started, most urgent first, sent as one message: this worker
    sends the rest back (each at its own priority), then executes the first. So another free
    worker takes the rest at once, a warning never rides on a critical's priority past this
    hop, and a more urgent run that arrived meanwhile is taken before them: a worker never
    holds more than one run of a batch."""
    steps = list(priorities or [])
    if len(steps) != len(run_ids):
        steps = [DEFAULT_PRIORITY] * len(run_ids)
    first, rest = run_ids[0], run_ids[1:]
    # A redelivered message (its worker died) must not send again the runs that finished since.
    rest = pending_only(rest)
    if rest:  # a broker failure leaves them PENDING for the recovery sweep (publish logs it)
        step_of = dict(zip(run_ids, steps, strict=True))
        publish(rest, priorities={run_id: step_of[run_id] for run_id in rest})
    status = execute_or_report_missing(first, node_name(self))
    if status == "RUNNING":  # as execute_run_task: look again once its heartbeat may be stale
        execute_run_task.apply_async(
            (first,), countdown=settings.PIPELINE_STALE_AFTER_S, priority=steps[0]
        )
    return status


def execute_or_report_missing(run_id: int, worker: str) -> str:
    """execute_run's status; a run this worker's database does not hold is one line in the log
    (a traceback per message before): another deployment sends to the same broker database."""
    try:
        return str(execute_run(run_id, worker=worker)["status"])
    except PipelineRun.DoesNotExist:
        logger.error(
            "run %s is not in this worker's database: does another deployment use the same "
            "broker database? Give each its own (docs/deploy.md); this message is dropped",
            run_id,
        )
        return "MISSING"


def pending_only(run_ids: list[int]) -> list[int]:
    if not run_ids:
        return []
    pending = set(
        PipelineRun.objects.filter(pk__in=run_ids, status=RunStatus.PENDING).values_list(
            "pk", flat=True
        )
    )
    return [run_id for run_id in run_ids if run_id in pending]


@shared_task(bind=True, name="orchestration.resume_run", acks_late=True, reject_on_worker_lost=True)
def resume_run_task(self, run_id: int) -> str:
    try:
        return resume_run(run_id, worker=node_name(self))["status"]
    except RunError as exc:  # already resumed or finished elsewhere: nothing to do
        return f"skipped: {exc}"


@shared_task(name="orchestration.sweep_runs")
def sweep_runs_task() -> dict:
    return periodic_sweep()


@shared_task(
    name="orchestration.flush_group",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=3,
)
def flush_group_task(self, group_id: int) -> dict:
    """Send a grouped notification when due; safe to run twice (the group's delivery is
    claimed, and a sent one is never sent again). When another worker holds the claim, look
    again once that claim would be stale: if that worker died, this task sends it."""
    from apps.notify.delivery import claim_stale_s
    from apps.notify.grouping import BUSY

    from .group_flush import flush_group

    result = flush_group(group_id)
    if result.get("status") == BUSY:
        raise self.retry(countdown=claim_stale_s())
    return result


@worker_ready.connect
def recover_in_every_worker(**_: Any) -> None:
    """Each worker sweeps on start and every PIPELINE_SWEEP_EVERY_S (one per period across
    workers), so runs whose message was lost finish without beat or cron."""
    if settings.PIPELINE_WORKER_RECOVERY:
        start_recovery_loop()
