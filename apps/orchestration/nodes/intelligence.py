"""intelligence: analyse the incident and the host context (rules, or an LLM with fallback)."""

from .base import NodeContext, NodeFailed, NodeHandler


class IntelligenceNode(NodeHandler):
    type_name = "intelligence"

    def validate_config(self, config: dict, known_nodes: set[str]) -> list[str]:
        from apps.intelligence.services import validate_intelligence_config

        return validate_intelligence_config(config)

    def run(self, ctx: NodeContext, config: dict) -> dict:
        from apps.intelligence.services import AnalysisError, analyze

        try:
            return analyze(
                incident=ctx.incident,
                payload=ctx.payload,
                context=ctx.latest_output("context"),
                config=config,
                trace_id=ctx.trace_id,
                pipeline_run=ctx.run,
                deadline=ctx.deadline,
            )
        except AnalysisError as exc:
            raise NodeFailed(str(exc)) from exc
