"""notify: deliver a message built from the run's facts through drivers or channels."""

from typing import Any

from .base import NodeContext, NodeFailed, NodeHandler, NodeSkipped


def message_context(ctx: NodeContext) -> dict[str, Any]:
    from .transform import template_scope

    incident = ctx.incident
    alerts: list[dict] = []
    if incident is not None:
        alerts = list(
            incident.alerts.values(
                "id",
                "name",
                "status",
                "severity",
                "host",
                "description",
                "labels",
                "started_at",
                "ended_at",
                "source",
                "fingerprint",
            )[:50]
        )
    return {
        "payload": ctx.payload,
        "incident": incident.as_dict() if incident is not None else None,
        "alerts": alerts,
        "analysis": ctx.latest_output("intelligence"),
        "context": ctx.latest_output("context"),
        "run_id": ctx.run.pk if ctx.run else None,
        "trace_id": ctx.trace_id,
        "source": ctx.source,
        "environment": ctx.environment,
        "definition": ctx.definition_label,
        "nodes": template_scope(ctx)["nodes"],
        "run": template_scope(ctx)["run"],
    }


class NotifyNode(NodeHandler):
    type_name = "notify"
    renders_own_templates = True  # title/message see the message context (analysis, alerts...)

    def validate_config(self, config: dict, known_nodes: set[str]) -> list[str]:
        from apps.notify.services import validate_notify_config

        return validate_notify_config(config)

    def run(self, ctx: NodeContext, config: dict) -> dict:
        from apps.notify.services import notify

        output = notify(
            config=config,
            message_context=message_context(ctx),
            pipeline_run=ctx.run,
            node_id=ctx.node_id,
            incident=ctx.incident,
            trace_id=ctx.trace_id,
            deadline=ctx.deadline,
        )
        if output.get("groups_opened"):
            from apps.orchestration.group_flush import schedule

            schedule(output["groups_opened"])
        if output.get("quiet") and not output.get("channels_attempted"):
            raise NodeSkipped(output["quiet"], output=output)
        failed = output.get("channels_failed", 0)
        if failed:
            lost = [d for d in output.get("deliveries", []) if d.get("status") == "failed"]
            errors = "; ".join(
                f"{d.get('channel') or d.get('driver')}: {d.get('error')}" for d in lost
            )
            raise NodeFailed(
                f"{failed} of {output.get('channels_attempted', 0)} channel(s) failed: {errors}",
                output=output,
                # a delivery never attempted had nowhere to go (no URL), one refused for good
                # (an address the outbound policy blocks): trying the node again cannot help
                retryable=any(d.get("attempts", 0) > 0 and d.get("retryable", True) for d in lost),
            )
        if not output.get("channels_attempted") and not output.get("channels_throttled"):
            raise NodeFailed(
                "no channel was notified (nothing configured)", output=output, retryable=False
            )
        return output

    def preview(self, ctx: NodeContext, config: dict) -> list[dict]:
        """The messages a dry-run would send; alerts are parsed from the payload, not stored."""
        from apps.notify.services import preview

        context = message_context(ctx)
        if not context["alerts"]:
            context["alerts"] = parsed_alerts(ctx.payload, ctx.source)
        if context["incident"] is None and context["alerts"] and has_ingest(ctx):
            # nothing is stored in a dry run: the incident its ingest node would open, so that
            # `incident.*` in a template renders as it will when the run is real
            context["incident"] = would_open(context["alerts"])
        return preview(config, context)


def has_ingest(ctx: NodeContext) -> bool:
    return "ingest" in ctx.node_types.values()


def would_open(alerts: list[dict[str, Any]]) -> dict[str, Any]:
    """Incident.as_dict() of the incident the first alert would open (never saved)."""
    from apps.alerts.models import Incident, incident_title
    from apps.common.severity import worst

    first = alerts[0]
    firing = [alert["severity"] for alert in alerts if alert["status"] == "firing"]
    return Incident(
        title=incident_title(first["name"], first["host"]),
        status=Incident.Status.OPEN if firing else Incident.Status.RESOLVED,
        severity=worst(firing or [first["severity"]]),
        host=first["host"],
        source=first["source"],
    ).as_dict()


def parsed_alerts(payload: Any, source: str) -> list[dict[str, Any]]:
    from apps.alerts import vendors

    vendor = source if source in vendors.vendor_names() else vendors.detect(payload)
    if vendor is None:
        return []
    try:
        alerts = vendors.parse(payload, vendor)
    except vendors.PayloadError:
        return []
    return [
        {
            "name": a.name,
            "status": a.status,
            "severity": a.severity,
            "host": a.host,
            "description": a.description,
            "labels": a.labels,
            "source": vendor,
            "started_at": a.started_at.isoformat() if a.started_at else None,
        }
        for a in alerts[:50]
    ]
