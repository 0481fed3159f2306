"""ingest: turn the run payload into Alert and Incident rows."""

from .base import NodeContext, NodeFailed, NodeHandler


def _vendor_names() -> list[str]:
    from apps.alerts.vendors import vendor_names

    return vendor_names()


class IngestNode(NodeHandler):
    type_name = "ingest"

    def validate_config(self, config: dict, known_nodes: set[str]) -> list[str]:
        problems = [f"unknown key '{key}' (allowed: source)" for key in config if key != "source"]
        source = config.get("source")
        if source is not None and source not in _vendor_names():
            problems.append(f"unknown source '{source}' (known: {', '.join(_vendor_names())})")
        return problems

    def run(self, ctx: NodeContext, config: dict) -> dict:
        from apps.alerts.services import IngestError, ingest

        preset = ctx.state.get("incident")
        if preset is not None:
            # Started by a webhook that already ingested this payload: report, don't re-ingest.
            return {
                "source": ctx.source,
                "already_ingested": True,
                "incident_id": preset.pk,
                "incident_ids": [preset.pk],
                "severity": preset.severity,
                "status": preset.status,
                "alerts": ctx.state.get("ingest_counts", {}),
                "alerts_total": preset.alerts.count(),
            }
        source = config.get("source")
        if source is None and ctx.source in _vendor_names():
            source = ctx.source
        try:
            result = ingest(ctx.payload, source, trace_id=ctx.trace_id)
        except IngestError as exc:
            raise NodeFailed(str(exc), retryable=False) from exc
        incident = result.incident
        ctx.state["incident"] = incident
        return {
            "source": result.source,
            "incident_id": incident.pk if incident else None,
            "incident_ids": [inc.pk for inc in result.incidents],
            "severity": incident.severity if incident else None,
            "status": incident.status if incident else None,
            "alerts": dict(result.counts),
            "alerts_total": sum(result.counts.values()),
        }
