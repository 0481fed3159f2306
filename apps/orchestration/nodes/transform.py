"""transform: build a new dict from dotted paths (or templates) over payload, incident, nodes."""

from typing import Any

from apps.common import templating

from .base import NodeContext, NodeFailed, NodeHandler

ROOTS = ("payload", "incident", "nodes")
_MISSING = object()


def resolve_path(path: str, scope: dict[str, Any]) -> Any:
    parts = path.split(".")
    value: Any = scope
    for part in parts:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


class TransformNode(NodeHandler):
    type_name = "transform"
    side_effects = False
    renders_own_templates = True

    def validate_config(self, config: dict, known_nodes: set[str]) -> list[str]:
        problems = [f"unknown key '{key}' (allowed: mapping)" for key in config if key != "mapping"]
        mapping = config.get("mapping")
        if not isinstance(mapping, dict) or not mapping:
            return problems + ["'mapping' must be a non-empty object of key -> path"]
        for key, path in mapping.items():
            if not isinstance(path, str) or not path:
                problems.append(f"mapping '{key}' must be a string path or template")
                continue
            if templating.has_template(path):
                continue
            parts = path.split(".")
            if parts[0] not in ROOTS:
                problems.append(
                    f"mapping '{key}' path '{path}' must start with payload, incident "
                    "or nodes.<id>.output"
                )
            elif parts[0] == "nodes" and (len(parts) < 3 or parts[2] not in ("output", "status")):
                problems.append(
                    f"mapping '{key}' path '{path}' must look like nodes.<id>.output..."
                )
        return problems

    def run(self, ctx: NodeContext, config: dict) -> dict:
        scope = template_scope(ctx)
        result: dict[str, Any] = {}
        for key, path in config["mapping"].items():
            if templating.has_template(path):
                try:
                    result[key] = templating.render(path, scope)
                except templating.TemplateError as exc:
                    raise NodeFailed(str(exc), retryable=False) from exc
                continue
            value = resolve_path(path, scope)
            if value is _MISSING:
                raise NodeFailed(f"mapping '{key}': path '{path}' not found", retryable=False)
            result[key] = value
        return result


def template_scope(ctx: NodeContext) -> dict[str, Any]:
    return {
        "payload": ctx.payload,
        "incident": ctx.incident.as_dict() if ctx.incident is not None else None,
        "nodes": {
            node_id: {"output": ctx.outputs.get(node_id), "status": status}
            for node_id, status in ctx.statuses.items()
        },
        "run": {
            "id": ctx.run.pk if ctx.run else None,
            "trace_id": ctx.trace_id,
            "source": ctx.source,
            "environment": ctx.environment,
        },
    }
