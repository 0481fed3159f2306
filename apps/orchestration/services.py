"""Starting, executing, resuming and replaying runs: what CLI, API, webhooks and tasks call."""

import logging
import threading
from typing import Any

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from .definition_orchestrator import DefinitionBasedOrchestrator, new_trace_id
from .engine import Engine, stored_result
from .models import FINAL_RUN_STATUSES, PipelineDefinition, PipelineRun, RunStatus
from .orchestrator import STANDARD_NAME, standard_definition

logger = logging.getLogger(__name__)


class RunError(Exception):
    """A run cannot be started, resumed or replayed (one-line message)."""


def orchestrator_for_run(run: PipelineRun) -> DefinitionBasedOrchestrator:
    """An orchestrator over the exact config the run recorded."""
    definition = PipelineDefinition(
        name=run.definition_name or STANDARD_NAME,
        config=run.config_snapshot,
        version=run.definition_version or 1,
    )
    orchestrator = DefinitionBasedOrchestrator(definition, config_path=run.config_path or None)
    orchestrator.kind = run.kind
    return orchestrator


def create_run(definition: PipelineDefinition | None, payload: Any, *, source: str,
               environment: str = "production", trace_id: str | None = None,
               incident: Any = None) -> PipelineRun:
    """A PENDING run of definition (None: the built-in standard pipeline), to execute later."""
    if definition is None:
        orchestrator = DefinitionBasedOrchestrator(standard_definition())
        orchestrator.kind = "fixed"
    else:
        orchestrator = DefinitionBasedOrchestrator(definition)
    run = orchestrator.new_run(payload, source=source, trace_id=trace_id or new_trace_id(),
                               environment=environment, status=RunStatus.PENDING,
                               incident=incident)
    run.save()
    return run


def claim_run(run_id: int, worker: str = "") -> bool:
    """Atomically move a PENDING run to RUNNING; False when someone else has it or it ended."""
    claimed = PipelineRun.objects.filter(pk=run_id, status=RunStatus.PENDING).update(
        status=RunStatus.RUNNING, claimed_by=worker[:200], heartbeat_at=timezone.now(),
        started_at=timezone.now(),
    )
    return claimed == 1


def execute_run(run_id: int, worker: str = "") -> dict:
    """Execute a PENDING run once; a run already taken or finished is not run again."""
    if not claim_run(run_id, worker):
        run = PipelineRun.objects.get(pk=run_id)
        return stored_result(run)
    run = PipelineRun.objects.select_related("incident").get(pk=run_id)
    orchestrator = orchestrator_for_run(run)
    problems = orchestrator.validate()
    if problems:
        run.status, run.error, run.finished_at = RunStatus.FAILED, "; ".join(problems), timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        return stored_result(run)
    return Engine(orchestrator.plan, orchestrator.label).execute(run, run.payload)


def resume_run(run_id: int) -> dict:
    """Re-run a FAILED run from its failed node, reusing what succeeded; same run id."""
    run = PipelineRun.objects.select_related("incident").filter(pk=run_id).first()
    if run is None:
        raise RunError(f"Pipeline run not found: {run_id}")
    if run.status != RunStatus.FAILED:
        raise RunError(f"Only FAILED runs can be resumed; run {run_id} is {run.status}")
    updated = PipelineRun.objects.filter(pk=run_id, status=RunStatus.FAILED).update(
        heartbeat_at=timezone.now()
    )
    if not updated:
        raise RunError(f"Run {run_id} changed while resuming")
    orchestrator = orchestrator_for_run(run)
    problems = orchestrator.validate()
    if problems:
        raise RunError("Recorded definition is no longer valid: " + "; ".join(problems))
    return Engine(orchestrator.plan, orchestrator.label).execute(run, run.payload)


def replay_run(run_id: int, definition: PipelineDefinition | None = None, *,
               environment: str | None = None) -> dict:
    """Run a past run's input again as a new run, optionally against another definition."""
    past = PipelineRun.objects.filter(pk=run_id).first()
    if past is None:
        raise RunError(f"Pipeline run not found: {run_id}")
    orchestrator = DefinitionBasedOrchestrator(definition) if definition else orchestrator_for_run(past)
    problems = orchestrator.validate()
    if problems:
        raise RunError("Pipeline definition invalid: " + "; ".join(problems))
    run = orchestrator.new_run(past.payload, source=past.source, trace_id=new_trace_id(),
                               environment=environment or past.environment)
    run.replay_of = past
    return Engine(orchestrator.plan, orchestrator.label).execute(run, past.payload)


def _run_in_background(run_ids: list[int]) -> None:
    def work() -> None:
        try:
            for run_id in run_ids:
                try:
                    execute_run(run_id, worker="inline-thread")
                except Exception:
                    logger.exception("background run %s failed", run_id)
        finally:
            close_old_connections()

    threading.Thread(target=work, name="pipeline-runs", daemon=True).start()


def dispatch(run_ids: list[int]) -> None:
    """Execute PENDING runs after the current transaction commits, off the caller's path."""
    if not run_ids:
        return
    ids = list(run_ids)
    if settings.CELERY_BROKER_URL:
        from .tasks import execute_run_task

        transaction.on_commit(lambda: [execute_run_task.delay(run_id) for run_id in ids])
    else:
        transaction.on_commit(lambda: _run_in_background(ids))
