"""Dry-run of a definition: its plan and the notifications it would send; nothing is stored.

Shared by `run_pipeline --dry-run` and the API's dry-run endpoint."""

from typing import Any

from apps.common import templating
from apps.orchestration.definition_orchestrator import DefinitionBasedOrchestrator
from apps.orchestration.nodes import get_handler
from apps.orchestration.nodes.base import NodeContext
from apps.orchestration.nodes.transform import template_scope
from apps.orchestration.secrets import shown_node_config
from apps.orchestration.spec import Plan

DRY_RUN_TRACE = "(dry-run)"


def plan_steps(plan: Plan) -> list[dict[str, Any]]:
    """The nodes in the order they would run."""
    steps = []
    for position, node_id in enumerate(plan.order, start=1):
        node = plan.nodes[node_id]
        steps.append(
            {
                "position": position,
                "id": node.id,
                "type": node.type,
                "config": shown_node_config(node.type, node.config),
                "next": node.next_ids(),
                "after": plan.predecessors.get(node_id, []),
                "when": node.when,
                "required": node.required,
                "enabled": node.enabled,
            }
        )
    return steps


def notification_previews(
    orchestrator: DefinitionBasedOrchestrator,
    payload: Any,
    *,
    source: str,
    environment: str,
    trace_id: str | None,
) -> list[dict[str, Any]]:
    """One entry per message each notify node would send, rendered but not sent.

    Earlier nodes do not run, so templates see the payload only (no analysis or check output),
    exactly like `run_pipeline --dry-run`.
    """
    plan = orchestrator.plan
    previews: list[dict[str, Any]] = []
    for node_id in plan.order:
        node = plan.nodes[node_id]
        if node.type != "notify" or not node.enabled:
            continue
        ctx = NodeContext(
            node_id=node_id,
            node_type="notify",
            payload=payload,
            run=None,
            trace_id=trace_id or DRY_RUN_TRACE,
            source=source,
            environment=environment,
            definition_label=orchestrator.label,
            outputs={},
            statuses={},
            node_types={n.id: n.type for n in plan.nodes.values()},
        )
        handler = get_handler("notify")
        try:
            config = (
                node.config
                if handler.renders_own_templates
                else templating.render_value(node.config, template_scope(ctx))
            )
            messages = handler.preview(ctx, config)
        except Exception as exc:  # a preview that cannot render is reported, not raised
            messages = [
                {
                    "driver": node.config.get("driver", ""),
                    "destination": "",
                    "title": "",
                    "text": "",
                    "error": f"cannot render: {exc}",
                }
            ]
        previews.extend({"node": node_id, **message} for message in messages)
    return previews


def dry_run(
    orchestrator: DefinitionBasedOrchestrator,
    payload: Any,
    *,
    source: str,
    environment: str,
    trace_id: str | None = None,
) -> dict[str, Any]:
    """The plan and would-be notifications of a valid definition (validate it first)."""
    definition = orchestrator.definition
    return {
        "definition": definition.name,
        "config_path": orchestrator.config_path or None,
        "version": definition.version,
        "is_active": definition.is_active,
        "source": source,
        "environment": environment,
        "payload": payload,
        "plan": plan_steps(orchestrator.plan),
        "notifications": notification_previews(
            orchestrator, payload, source=source, environment=environment, trace_id=trace_id
        ),
    }
