"""Starting, executing, resuming and replaying runs: what CLI, API, webhooks and tasks call."""

import logging
import threading
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import Case, F, PositiveIntegerField, Q, When
from django.utils import timezone

from apps.common.text import one_line

from .definition_orchestrator import DefinitionBasedOrchestrator, new_trace_id
from .engine import Engine
from .models import FINAL_RUN_STATUSES, PipelineDefinition, PipelineRun, RunStatus
from .orchestrator import STANDARD_NAME, standard_definition
from .priority import DEFAULT as DEFAULT_PRIORITY
from .records import stored_result

logger = logging.getLogger(__name__)


# Where a run can come from besides a vendor's webhook (vendor names are sources too).
GENERAL_SOURCES = ("cli", "api", "webhook", "schedule", "checks")


def is_alert_list(payload: Any) -> bool:
    """A list of objects (Prometheus posts its alerts so); [1, 2] is not a payload."""
    return (
        isinstance(payload, list)
        and bool(payload)
        and all(isinstance(item, dict) for item in payload)
    )


def json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an empty array" if not value else "an array of non-objects"
    return {str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


def payload_problem(payload: Any) -> str:
    """Why a run cannot take this payload (run_pipeline and the console's dry-run), or ""."""
    if isinstance(payload, dict) or is_alert_list(payload):
        return ""
    return "Payload must be a JSON object or array of alert objects, not " + json_type(payload)


def run_sources() -> list[str]:
    """Every source a run may name: the general ones, then each vendor."""
    from apps.alerts.vendors import vendor_names

    return [*GENERAL_SOURCES, *(name for name in vendor_names() if name not in GENERAL_SOURCES)]


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


# One orchestrator per stored definition version, kept by the process: its config is loaded
# and sealed once, not for every webhook. save() sets updated_at (and bumps version when the
# config changes), so an edited definition is a new key.
_ORCHESTRATORS: dict[tuple, DefinitionBasedOrchestrator] = {}
ORCHESTRATORS_KEPT = 64


def orchestrator_for(definition: PipelineDefinition | None) -> DefinitionBasedOrchestrator:
    """The orchestrator of a stored definition, or of the built-in pipeline for None."""
    if definition is None:
        orchestrator = _ORCHESTRATORS.get(("standard",))
        if orchestrator is None:
            orchestrator = DefinitionBasedOrchestrator(standard_definition())
            orchestrator.kind = "fixed"
            _ORCHESTRATORS[("standard",)] = orchestrator
        return orchestrator
    if definition.pk is None:
        return DefinitionBasedOrchestrator(definition)
    key = (definition.pk, definition.name, definition.version, definition.updated_at)
    orchestrator = _ORCHESTRATORS.get(key)
    if orchestrator is None:
        if len(_ORCHESTRATORS) >= ORCHESTRATORS_KEPT:
            _ORCHESTRATORS.clear()
        orchestrator = _ORCHESTRATORS[key] = DefinitionBasedOrchestrator(definition)
    return orchestrator


def create_run(
    definition: PipelineDefinition | None,
    payload: Any,
    *,
    source: str,
    environment: str = "production",
    trace_id: str | None = None,
    incident: Any = None,
    orchestrator: DefinitionBasedOrchestrator | None = None,
    stored_payload: Any = None,
    priority: int = DEFAULT_PRIORITY,
) -> PipelineRun:
    """A PENDING run of definition (None: the built-in standard pipeline), to execute later.

    stored_payload: the payload already made a run input (records.run_input), when many runs
    share one payload (a webhook that changed many incidents) so it is redacted once, not per
    run.
    priority: the order in which workers take it (orchestration.priority; 0 first).
    """
    if orchestrator is None:
        orchestrator = orchestrator_for(definition)
    run = orchestrator.new_run(
        payload,
        source=source,
        trace_id=trace_id or new_trace_id(),
        environment=environment,
        status=RunStatus.PENDING,
        incident=incident,
        stored_payload=stored_payload,
    )
    run.priority = priority
    run.save()
    return run


def stale_cutoff() -> Any:
    return timezone.now() - timedelta(seconds=settings.PIPELINE_STALE_AFTER_S)


def claim_run(run_id: int, worker: str = "") -> bool:
    """Atomically take a run: PENDING, or RUNNING with a stale heartbeat (its worker died).

    False when another live worker has it or it has finished: the caller must not run it.
    """
    takeover = Q(
        status=RunStatus.RUNNING,
        heartbeat_at__lt=stale_cutoff(),
        recoveries__lt=settings.PIPELINE_MAX_RECOVERIES,
    )
    claimed = PipelineRun.objects.filter(Q(status=RunStatus.PENDING) | takeover, pk=run_id).update(
        recoveries=Case(
            When(status=RunStatus.RUNNING, then=F("recoveries") + 1),
            default=F("recoveries"),
            output_field=PositiveIntegerField(),
        ),
        status=RunStatus.RUNNING,
        claimed_by=worker[:200],
        heartbeat_at=timezone.now(),
    )
    if claimed:
        release_interrupted_work(run_id)
    return claimed == 1


def release_interrupted_work(run_id: int) -> None:
    """What a dead worker left half-done for this run may be done again (at-least-once)."""
    from apps.notify.services import release_interrupted

    release_interrupted(run_id)


def execute_run(run_id: int, worker: str = "") -> dict:
    """Execute a PENDING run once; a run already taken or finished is not run again."""
    if not claim_run(run_id, worker):
        run = PipelineRun.objects.get(pk=run_id)
        return stored_result(run)
    return execute_claimed_run(run_id)


def execute_claimed_run(run_id: int) -> dict:
    """Execute a run this worker has just claimed (claim_run returned True)."""
    run = PipelineRun.objects.select_related("incident").get(pk=run_id)
    orchestrator = orchestrator_for_run(run)
    problems = orchestrator.validate()
    if problems:
        run.status, run.error, run.finished_at = (
            RunStatus.FAILED,
            "; ".join(problems),
            timezone.now(),
        )
        run.save(update_fields=["status", "error", "finished_at"])
        return stored_result(run)
    return Engine(orchestrator.plan, orchestrator.label).execute(run, run.payload)


def resume_run(run_id: int, worker: str = "") -> dict:
    """Re-run a FAILED run from its failed node, reusing what succeeded; same run id."""
    run = PipelineRun.objects.filter(pk=run_id).first()
    if run is None:
        raise RunError(f"Pipeline run not found: {run_id}")
    if run.status != RunStatus.FAILED:
        raise RunError(f"Only FAILED runs can be resumed; run {run_id} is {run.status}")
    orchestrator = orchestrator_for_run(run)
    problems = orchestrator.validate()
    if problems:
        raise RunError("Recorded definition is no longer valid: " + "; ".join(problems))
    claimed = PipelineRun.objects.filter(pk=run_id, status=RunStatus.FAILED).update(
        status=RunStatus.RUNNING, heartbeat_at=timezone.now(), claimed_by=worker[:200] or "resume"
    )
    if not claimed:
        raise RunError(f"Run {run_id} is being resumed elsewhere")
    release_interrupted_work(run_id)
    run = PipelineRun.objects.select_related("incident").get(pk=run_id)
    return Engine(orchestrator.plan, orchestrator.label).execute(run, run.payload)


def replay_run(
    run_id: int, definition: PipelineDefinition | None = None, *, environment: str | None = None
) -> dict:
    """Run a past run's input again as a new run, optionally against another definition."""
    past = PipelineRun.objects.filter(pk=run_id).first()
    if past is None:
        raise RunError(f"Pipeline run not found: {run_id}")
    orchestrator = (
        DefinitionBasedOrchestrator(definition) if definition else orchestrator_for_run(past)
    )
    problems = orchestrator.validate()
    if problems:
        raise RunError("Pipeline definition invalid: " + "; ".join(problems))
    run = orchestrator.new_run(
        past.payload,
        source=past.source,
        trace_id=new_trace_id(),
        environment=environment or past.environment,
    )
    run.replay_of = past
    if definition is None:  # the recorded config of the past run: its definition and version
        run.definition_id, run.definition_version = past.definition_id, past.definition_version
    return Engine(orchestrator.plan, orchestrator.label).execute(run, past.payload)


def celery_app() -> Any:
    """The configured Celery app (imported on first use: Celery is slow to import)."""
    from config.celery import app

    return app


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


def dispatch(
    run_ids: list[int],
    *,
    background: bool = True,
    raise_errors: bool = False,
    priorities: dict[int, int] | None = None,
) -> None:
    """Hand PENDING runs to whoever executes them (PIPELINE_RUNNER), after the transaction
    commits.

    celery: one message per run on the `pipelines` queue, with the run's priority. worker:
    nothing to send, `manage.py run_worker` takes PENDING runs from the database. thread: a
    background thread of this process. background=False is a command that must finish the
    runs before it exits (cron, `run_pipeline --queue` without a broker): without Celery they
    execute inline, so nothing waits on a runner that may not be running.
    priorities: run id -> priority when the caller knows them (else they are read).
    A broker that cannot take the messages fails within CELERY_BROKER_TIMEOUT_S: the runs stay
    PENDING for the recovery (apps.orchestration.recovery) to enqueue, and raise_errors makes
    that a BrokerUnavailable for the caller to report.
    """
    if not run_ids:
        return
    ids = list(run_ids)
    runner = settings.PIPELINE_RUNNER
    if runner == "celery":
        if priorities is None or not set(ids) <= priorities.keys():
            priorities = dict(PipelineRun.objects.filter(pk__in=ids).values_list("pk", "priority"))
        known = priorities
        transaction.on_commit(lambda: publish(ids, raise_errors=raise_errors, priorities=known))
    elif not background:
        transaction.on_commit(lambda: [execute_run(run_id, worker="inline") for run_id in ids])
    elif runner == "thread":
        transaction.on_commit(lambda: _run_in_background(ids))
    # runner == "worker": the runs wait, PENDING, for `manage.py run_worker` (most urgent first).


class BrokerUnavailable(RunError):
    """The broker did not take a run's message; the run stays PENDING and is enqueued later."""

    def __init__(self, run_ids: list[int], reason: str):
        self.run_ids = run_ids
        super().__init__(reason)


# At most this many runs in one message (a sweep's re-dispatch or a webhook of a hundred
# incidents is sent as several).
RUNS_PER_MESSAGE = 10


def publish(
    run_ids: list[int], *, raise_errors: bool = False, priorities: dict[int, int] | None = None
) -> None:
    """Send the runs' messages, most urgent run first: up to RUNS_PER_MESSAGE runs in one
    message, at the priority of its most urgent run, so a webhook that starts ten runs makes one
    broker round trip, not ten. The worker that takes an `execute_runs` message sends the rest
    back, each at its own priority, and executes the first (tasks.execute_runs_task). At the
    first broker failure stop (the broker is down: waiting on it again would only hold the
    caller) and leave the rest PENDING."""
    from kombu.exceptions import KombuError

    celery_app()
    from .tasks import execute_run_task, execute_runs_task

    known = priorities or {}
    ordered = sorted(run_ids, key=lambda run_id: known.get(run_id, DEFAULT_PRIORITY))  # stable
    sent: set[int] = set()
    for start in range(0, len(ordered), RUNS_PER_MESSAGE):
        ids = ordered[start : start + RUNS_PER_MESSAGE]
        steps = [known.get(run_id, DEFAULT_PRIORITY) for run_id in ids]
        try:
            # argsrepr given: Celery's own (saferepr) was a quarter of a message's cost
            if len(ids) == 1:
                execute_run_task.apply_async(
                    (ids[0],), priority=steps[0], argsrepr=f"({ids[0]},)", kwargsrepr="{}"
                )
            else:
                execute_runs_task.apply_async(
                    (ids,),
                    {"priorities": steps},
                    priority=steps[0],
                    argsrepr=f"({ids!r},)",
                    kwargsrepr=f"{{'priorities': {steps!r}}}",
                )
        except (KombuError, OSError) as exc:
            left = [run_id for run_id in run_ids if run_id not in sent]
            reason = one_line(f"{type(exc).__name__}: {exc}")
            if raise_errors:  # the caller reports it, once
                raise BrokerUnavailable(left, reason) from None
            logger.warning(
                "broker unreachable (%s): runs %s stay PENDING; a worker's recovery or "
                "sweep_runs --requeue enqueues them",
                reason,
                left,
            )
            return
        sent.update(ids)


def wait_for_run(run_id: int, timeout_s: float = 600.0, poll_s: float = 0.2) -> PipelineRun:
    """Block until a run reaches a final status (or timeout); returns the run as stored."""
    deadline = time.monotonic() + timeout_s
    while True:
        run = PipelineRun.objects.get(pk=run_id)
        if run.status in FINAL_RUN_STATUSES or time.monotonic() > deadline:
            return run
        time.sleep(poll_s)


def delivery_node_config(delivery: Any) -> dict[str, Any] | None:
    """The config of the notify node that made a delivery, from its run's definition snapshot
    (what the silence sweep needs to reach an inline destination again)."""
    run = delivery.pipeline_run
    if run is None:
        return None
    for node in (run.config_snapshot or {}).get("nodes", []):
        if isinstance(node, dict) and node.get("id") == delivery.node_id:
            config = node.get("config")
            return config if isinstance(config, dict) else None
    return None
