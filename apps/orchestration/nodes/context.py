"""context: run host checks; problems found are data for later nodes, not a node failure."""

from .base import NodeContext, NodeFailed, NodeHandler


class ContextNode(NodeHandler):
    type_name = "context"
    side_effects = False

    def validate_config(self, config: dict, known_nodes: set[str]) -> list[str]:
        from apps.checkers.services import validate_context_config

        return validate_context_config(config)

    def run(self, ctx: NodeContext, config: dict) -> dict:
        from apps.checkers.services import CheckerError, run_checks

        try:
            output = run_checks(
                config.get("include"),
                config.get("options"),
                trace_id=ctx.trace_id,
                pipeline_run=ctx.run,
                deadline=ctx.deadline,
                reuse=True,
            )
        except CheckerError as exc:
            raise NodeFailed(str(exc)) from exc
        # Each check's metrics also at the top, so templates can say nodes.<id>.output.cpu.percent
        for name, result in output.get("checks", {}).items():
            output.setdefault(name, result.get("metrics", {}))
        return output
