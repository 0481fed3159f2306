"""ingest: turn the run payload into Alert and Incident rows."""

from typing import Any

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
            # Started by a webhook that already stored this payload: report what it stored for
            # this run's incident, counted from the alert events of the run's trace.
            return {
                "source": ctx.source,
                "already_ingested": True,
                "incident_id": preset.pk,
                "incident_ids": [preset.pk],
                "severity": preset.severity,
                "status": preset.status,
                "alerts": stored_counts(preset, ctx.trace_id),
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


# Alert event kinds -> the ingestion counts they stand for (grouping notes are not counted).
EVENT_COUNTS = {
    "created": "created",
    "updated": "updated",
    "refired": "updated",
    "acknowledged": "updated",
    "resolved": "resolved",
}


def stored_counts(incident: Any, trace_id: str) -> dict[str, int]:
    """created/updated/resolved alerts of `incident` written under `trace_id`."""
    from django.db.models import Count

    from apps.alerts.models import AlertEvent

    counts = {"created": 0, "updated": 0, "resolved": 0}
    if not trace_id:
        return counts
    rows = (
        AlertEvent.objects.filter(alert__incident=incident, trace_id=trace_id)
        .values("kind")
        .annotate(n=Count("id"))
    )
    for row in rows:
        if row["kind"] in EVENT_COUNTS:
            counts[EVENT_COUNTS[row["kind"]]] += row["n"]
    return counts
