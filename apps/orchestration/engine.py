"""The one execution engine: runs a validated plan and writes PipelineRun/StageExecution records.

It knows graphs, attempts, timeouts, conditions and records; nothing of alerts or Slack.
Timeouts are cooperative: a node gets a deadline that its service honours for every wait
(HTTP, LLM, checks), and a node that still overruns it is recorded as timed out.
"""

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.common import metrics, template_limits, templating
from apps.common.logging import run_context
from apps.common.retry import Backoff, sleep_before_retry

from . import progress, rows
from .models import NodeStatus, PipelineRun, RunStatus, StageExecution
from .nodes import get_handler
from .nodes.base import NodeContext, NodeFailed, NodeSkipped
from .nodes.transform import template_scope
from .records import Heartbeat, result_dict, storable
from .spec import Plan

logger = logging.getLogger(__name__)

REUSABLE = {NodeStatus.SUCCEEDED, NodeStatus.SKIPPED}
FINISHED_FIELDS = ("status", "error", "failed_nodes", "finished_at", "duration_ms", "incident")
STAGE_FIELDS = ("node_type", "position", "status", "attempts", "started_at", "finished_at",
                "duration_ms", "output", "error", "reason", "attempt_log")  # fmt: skip


@dataclass
class NodeState:
    node_id: str
    node_type: str
    status: str = NodeStatus.PENDING
    attempts: int = 0
    output: Any = None
    error: str = ""
    reason: str = ""
    started_at: Any = None
    finished_at: Any = None
    duration_ms: float | None = None
    attempt_log: list = field(default_factory=list)
    record: StageExecution | None = None  # the stored record of a resumed or taken-over run
    record_pk: int | None = None  # the record this execution wrote (no instance is built)
    record_values: dict = field(default_factory=dict)

    @property
    def stored_output(self) -> Any:
        """The output as recorded (redacted, capped), which every view shows."""
        if self.record_values:
            return self.record_values["output"]
        return self.record.output if self.record is not None else self.output

    @property
    def position(self) -> int:
        if self.record_values:
            return self.record_values["position"]
        return self.record.position if self.record is not None else 0


def ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


class Engine:
    def __init__(self, plan: Plan, definition_label: str):
        self.plan = plan
        self.definition_label = definition_label
        self.live_predecessors, self.after_start = through_disabled(plan)

    # -- public -----------------------------------------------------------------------------
    def execute(self, run: PipelineRun, payload: Any, *, state: dict | None = None) -> dict:
        """Run every node of the plan for `run` (new or resumed) and return the result dict."""
        state = dict(state or {})
        if run.incident_id and "incident" not in state:
            state["incident"] = run.incident
        nodes = self._initial_states(run)
        started = time.perf_counter()
        # A resumed run has finished before: its duration adds up its executions, not the gap.
        self._earlier_ms = run.duration_ms if run.finished_at is not None else None
        self._mark_running(run)
        progress.run_started(run)
        with run_context(run.trace_id, run.pk), Heartbeat(run):
            failure = self._run_nodes(run, payload, nodes, state)
            self._finish(run, nodes, state, failure, started)
        return result_dict(run, [nodes[n] for n in self._result_order(nodes)])

    # -- internals --------------------------------------------------------------------------
    def _initial_states(self, run: PipelineRun) -> dict[str, NodeState]:
        existing = {}
        if run.pk:  # a stored run may be a resume or a takeover: reuse what succeeded
            existing = {stage.node_id: stage for stage in run.stages.all()}
        nodes = {}
        for node_id in self.plan.order:
            spec = self.plan.nodes[node_id]
            node = NodeState(node_id, spec.type)
            stage = existing.get(node_id)
            if stage is not None:
                node.record = stage
                node.attempts = stage.attempts
                node.attempt_log = list(stage.attempt_log or [])
                if stage.status in REUSABLE:
                    node.status, node.output, node.reason = stage.status, stage.output, stage.reason
                    node.started_at, node.finished_at = stage.started_at, stage.finished_at
                    node.duration_ms = stage.duration_ms
            nodes[node_id] = node
        return nodes

    def _mark_running(self, run: PipelineRun) -> None:
        now = timezone.now()
        run.status, run.heartbeat_at = RunStatus.RUNNING, now
        fields = ["status", "heartbeat_at", "error"]
        if run.started_at is None:
            run.started_at = now
            fields.append("started_at")
        if run.pk is None:
            rows.insert([run])
        else:
            run.error = ""
            rows.update(run, tuple(fields))

    def _run_nodes(self, run, payload, nodes: dict[str, NodeState], state: dict) -> str:
        """Run every node; a failed required node stops its descendants only (an independent
        branch still runs). Returns the first failed required node ("" when none)."""
        failure = ""
        stopped_by: dict[str, str] = {}  # node -> the failed required node above it
        position = 0
        self._unsaved: list[NodeState] = []
        for node_id in self.plan.order:
            node = nodes[node_id]
            if node.status in REUSABLE:
                position += 1
                continue
            above = next(
                (stopped_by[p] for p in self.plan.predecessors[node_id] if p in stopped_by), ""
            )
            if above:
                stopped_by[node_id] = above
                node.status, node.reason = NodeStatus.NOT_RUN, failure_reason(above)
                node.output, node.error = None, ""
                self._save(
                    run, node, position=len(self.plan.order) + self.plan.order.index(node_id)
                )
                continue
            if get_handler(node.node_type).side_effects:
                self._flush(run)  # what ran before is on record before anything touches the world
            self._run_one(run, payload, node, nodes, state)
            self._save(run, node, position=position)
            position += 1
            if node.status == NodeStatus.FAILED and self.plan.nodes[node_id].required:
                stopped_by[node_id] = node_id
                failure = failure or node_id
        return failure

    def _context(self, run, payload, node: NodeState, nodes, state) -> NodeContext:
        return NodeContext(
            node_id=node.node_id,
            node_type=node.node_type,
            payload=payload,
            run=run,
            trace_id=run.trace_id,
            source=run.source,
            environment=run.environment,
            definition_label=self.definition_label,
            outputs={n.node_id: n.output for n in nodes.values() if n.status != NodeStatus.PENDING},
            statuses={
                n.node_id: n.status for n in nodes.values() if n.status != NodeStatus.PENDING
            },
            node_types={n.node_id: n.node_type for n in nodes.values()},
            state=state,
        )

    def _skip_reason(self, node: NodeState, nodes, ctx: NodeContext, timeout: float) -> str:
        spec = self.plan.nodes[node.node_id]
        if not spec.enabled:
            return DISABLED_REASON
        preds = self.live_predecessors[node.node_id]
        held = preds and node.node_id not in self.after_start
        if held and all(nodes[p].status == NodeStatus.SKIPPED for p in preds):
            return "all predecessors were skipped: " + ", ".join(preds)
        if spec.when:  # evaluated within the node's own time limit
            with template_limits.deadline(time.monotonic() + timeout):
                value = templating.evaluate(spec.when, template_scope(ctx))
            if not value:
                return f"condition is false: {spec.when}"
        return ""

    def _run_one(self, run, payload, node: NodeState, nodes, state) -> None:
        spec = self.plan.nodes[node.node_id]
        defaults = self.plan.spec.defaults
        retries = spec.retries if spec.retries is not None else defaults.retries
        backoff = (
            spec.retry_backoff_s if spec.retry_backoff_s is not None else defaults.retry_backoff_s
        )
        timeout = spec.timeout_s if spec.timeout_s is not None else defaults.timeout_s
        ctx = self._context(run, payload, node, nodes, state)
        node.started_at = timezone.now()
        started = time.perf_counter()
        node.error, node.reason, node.output = "", "", None
        try:
            reason = self._skip_reason(node, nodes, ctx, timeout)
        except templating.TemplateError as exc:
            node.status, node.error = NodeStatus.FAILED, str(exc)
            node.attempts += 1
            node.attempt_log.append(
                {"attempt": node.attempts, "error": node.error, "duration_ms": 0}
            )
        else:
            if reason:
                node.status, node.reason = NodeStatus.SKIPPED, reason
            else:
                self._attempts(ctx, node, spec.config, retries, backoff, timeout)
        node.finished_at = timezone.now()
        node.duration_ms = ms_since(started)
        metrics.record_node(node.node_type, node.status, node.duration_ms / 1000)
        if node.status == NodeStatus.FAILED:
            logger.info("node %s failed: %s", node.node_id, node.error)

    def _attempts(
        self, ctx, node: NodeState, written, retries: int, backoff: float, timeout: float
    ):
        """Each attempt renders the config (`written`) and runs the handler within one deadline:
        a template that loops or builds too much fails the node (not retried), in time."""
        handler = get_handler(node.node_type)
        waits = Backoff(base_s=backoff, cap_s=60.0)  # see apps.common.retry for the rule
        for attempt in range(retries + 1):
            node.attempts += 1
            ctx.attempt = node.attempts
            ctx.deadline = time.monotonic() + timeout
            started = time.perf_counter()
            retryable = True
            try:
                with template_limits.deadline(ctx.deadline):
                    if handler.renders_own_templates:
                        config = written
                    else:
                        try:
                            config = templating.render_value(written, template_scope(ctx))
                        except templating.TemplateError as exc:
                            raise NodeFailed(str(exc), retryable=False) from None
                    output = handler.run(ctx, config)
                if time.monotonic() > ctx.deadline:
                    raise NodeFailed(f"timed out after {timeout:g}s", output=output)
                node.status, node.output, node.error = NodeStatus.SUCCEEDED, output, ""
            except NodeSkipped as exc:
                node.status, node.reason, node.output = NodeStatus.SKIPPED, str(exc), exc.output
            except NodeFailed as exc:
                node.status, node.error, node.output = NodeStatus.FAILED, str(exc), exc.output
                retryable = exc.retryable
            except Exception as exc:  # a bug or an unexpected service error fails the node only
                logger.exception("node %s raised", node.node_id)
                node.status, node.error = NodeStatus.FAILED, f"{type(exc).__name__}: {exc}"
            node.attempt_log.append(
                {
                    "attempt": node.attempts,
                    "status": node.status,
                    "duration_ms": ms_since(started),
                    "error": node.error,
                }
            )
            if node.status != NodeStatus.FAILED or not retryable or attempt == retries:
                return
            sleep_before_retry(waits.delay(attempt + 1), None)

    def _save(self, run, node: NodeState, position: int) -> None:
        """Stage the record of a node; _flush() writes it (batched for speed)."""
        node.record_values = {
            "node_type": node.node_type,
            "position": position,
            "status": node.status,
            "attempts": node.attempts,
            "started_at": node.started_at,
            "finished_at": node.finished_at,
            "duration_ms": node.duration_ms,
            "output": storable(node.output) if node.output is not None else None,
            "error": node.error[:5000],
            "reason": node.reason,
            "attempt_log": storable(node.attempt_log[-20:]),
        }
        if node.record is not None:
            for key, value in node.record_values.items():
                setattr(node.record, key, value)
        else:
            node.record_values.update(run_id=run.pk, node_id=node.node_id)
        self._unsaved.append(node)
        progress.node_finished(node)

    def _flush(self, run) -> None:
        if self._unsaved:
            with transaction.atomic():
                self._write_stages()

    def _write_stages(self) -> None:
        """One multi-row INSERT for the records this execution made; the records of a resumed
        run it changed are updated."""
        new = [node for node in self._unsaved if node.record is None and node.record_pk is None]
        ids = rows.insert_values(StageExecution, [node.record_values for node in new])
        for node, pk in zip(new, ids, strict=True):
            node.record_pk = pk
        written = {id(node) for node in new}
        for node in self._unsaved:
            if node.record is not None:
                node.record.save()
            elif id(node) not in written and node.record_pk is not None:  # changed since written
                rows.update_values(StageExecution, node.record_pk, STAGE_FIELDS, node.record_values)
        self._unsaved = []

    def _finish(self, run, nodes, state, failure: str, started: float) -> None:
        run.status = RunStatus.FAILED if failure else RunStatus.COMPLETED
        run.error = ""
        if failure:
            failed = nodes[failure]
            run.error = f"node '{failure}' ({failed.node_type}) failed: {failed.error}"[:5000]
        run.failed_nodes = [n for n in self.plan.order if nodes[n].status == NodeStatus.FAILED]
        run.finished_at = timezone.now()
        if self._earlier_ms is not None:
            run.duration_ms = round(self._earlier_ms + ms_since(started), 2)
        else:
            run.duration_ms = round((run.finished_at - run.started_at).total_seconds() * 1000, 2)
        incident = state.get("incident")
        if incident is not None:
            run.incident = incident
        with transaction.atomic():
            self._write_stages()
            rows.update(run, FINISHED_FIELDS)
        metrics.record_run(run)

    def _result_order(self, nodes: dict[str, NodeState]) -> list[str]:
        return sorted(nodes, key=lambda node_id: nodes[node_id].position)


DISABLED_REASON = "disabled in the definition (enabled: false)"


def through_disabled(plan: Plan) -> tuple[dict[str, list[str]], set[str]]:
    """Each node's predecessors with the edges passing through disabled nodes, and the nodes
    that a path of disabled nodes joins to the start (they run as if they followed the start).

    One pass in execution order (predecessors come first), so chains of any length and
    diamonds of disabled nodes cost O(nodes x edges), without recursion.
    """
    live: dict[str, list[str]] = {}
    after_start: set[str] = set()
    for node_id in plan.order:
        found: dict[str, None] = {}  # ordered set
        for pred in plan.predecessors[node_id]:
            if plan.nodes[pred].enabled:
                found[pred] = None
                continue
            found.update(dict.fromkeys(live[pred]))
            if not plan.predecessors[pred] or pred in after_start:
                after_start.add(node_id)
        live[node_id] = list(found)
    return live, after_start


def failure_reason(failed_node: str) -> str:
    return f"not run: required node '{failed_node}' before it failed"
