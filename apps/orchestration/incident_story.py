"""One incident's whole story: its alerts, status changes, runs, analyses and deliveries.

Shared by the console's incident page, `manage.py incidents show` and `GET /api/incidents/<id>`.
It lives here because runs are orchestration's and the rest belongs to the domain apps below.
Each part is the newest STORY_LIMIT rows at most, read with one query each (nine in all), so an
incident with years of flapping costs the same as a new one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from apps.alerts.inhibition import quiet_reasons
from apps.alerts.models import AlertEvent, Incident, IncidentEvent
from apps.alerts.queries import delivery_outcome
from apps.common.text import one_line
from apps.orchestration.models import PipelineRun, StageExecution
from apps.orchestration.records import outcome

STORY_LIMIT = 200
RUN_LIMIT = 50


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def incident_story(incident: Incident) -> dict[str, Any]:
    """The incident's parts and a timeline merging them, newest first (JSON-ready)."""
    from apps.hosts.models import Host
    from apps.intelligence.models import AnalysisRun
    from apps.notify.models import Delivery

    alerts = list(incident.alerts.order_by("-id")[:STORY_LIMIT])
    alert_events = list(
        AlertEvent.objects.filter(alert__incident=incident)
        .select_related("alert")
        .only("id", "kind", "reason", "created_at", "alert__id", "alert__name")
        .order_by("-id")[:STORY_LIMIT]
    )
    events = list(IncidentEvent.objects.filter(incident=incident).order_by("-id")[:STORY_LIMIT])
    runs = list(
        PipelineRun.objects.filter(incident=incident)
        .defer("payload", "config_snapshot")
        .order_by("-id")[:RUN_LIMIT]
    )
    stages: dict[int, list[StageExecution]] = {}
    for stage in (
        StageExecution.objects.filter(run_id__in=[run.pk for run in runs])
        .defer("output", "attempt_log")
        .order_by("run_id", "position", "id")
    ):
        stages.setdefault(stage.run_id, []).append(stage)
    analyses = list(AnalysisRun.objects.filter(incident=incident).order_by("-id")[:STORY_LIMIT])
    deliveries = list(
        Delivery.objects.filter(incident=incident)
        .select_related("channel")
        .defer("message", "target_config")
        .order_by("-id")[:STORY_LIMIT]
    )
    host = Host.objects.filter(name=incident.host).first() if incident.host else None
    context = (
        StageExecution.objects.filter(run__incident=incident, node_type="context")
        .exclude(output=None)
        .order_by("-run_id")
        .values("run_id", "output", "finished_at")
        .first()
    )
    story = {
        "incident": incident_detail(incident),
        "alerts": [alert_dict(alert) for alert in alerts],
        "runs": [run_dict(run, stages.get(run.pk, [])) for run in runs],
        "analyses": [analysis_dict(analysis) for analysis in analyses],
        "deliveries": [delivery_dict(delivery) for delivery in deliveries],
        "latest_analysis": analyses[0].output if analyses else None,
        "host_facts": host_facts(incident, host, context),
    }
    story["timeline"] = timeline(alert_events, events, story)
    return story


def incident_detail(incident: Incident) -> dict[str, Any]:
    detail = incident.as_dict()
    detail.update(
        updated_at=iso(incident.updated_at),
        acknowledged_at=iso(incident.acknowledged_at),
        silenced=quiet_reasons([incident.pk]).get(incident.pk),
    )
    return detail


def alert_dict(alert: Any) -> dict[str, Any]:
    return {
        "id": alert.pk,
        "name": alert.name,
        "status": alert.status,
        "severity": alert.severity,
        "host": alert.host,
        "source": alert.source,
        "description": one_line(alert.description, 500),
        "labels": alert.labels,
        "url": alert.url,
        "started_at": iso(alert.started_at),
        "updated_at": iso(alert.updated_at),
    }


def run_dict(run: PipelineRun, stages: list[StageExecution]) -> dict[str, Any]:
    return {
        "id": run.pk,
        "status": run.status,
        "outcome": outcome(run.status, run.failed_nodes),
        "failed_nodes": list(run.failed_nodes or []),
        "definition": run.definition_name or run.config_path or run.kind,
        "definition_version": run.definition_version,
        "source": run.source,
        "created_at": iso(run.created_at),
        "duration_ms": run.duration_ms,
        "error": run.error or None,
        "nodes": [
            {
                "id": stage.node_id,
                "type": stage.node_type,
                "status": stage.status,
                "attempts": stage.attempts,
                "duration_ms": stage.duration_ms,
                "error": stage.error or None,
            }
            for stage in stages
        ],
    }


def analysis_dict(analysis: Any) -> dict[str, Any]:
    output = analysis.output if isinstance(analysis.output, dict) else {}
    return {
        "id": analysis.pk,
        "run_id": analysis.pipeline_run_id,
        "provider": analysis.provider,
        "model": analysis.model,
        "status": analysis.status,
        "summary": one_line(output.get("summary", ""), 300),
        "error": analysis.error or None,
        "created_at": iso(analysis.created_at),
    }


def delivery_dict(delivery: Any) -> dict[str, Any]:
    item = delivery_outcome(delivery) or {}
    item.update(
        channel=delivery.channel.name if delivery.channel else None,
        run_id=delivery.pipeline_run_id,
        node=delivery.node_id,
        sent_at=iso(delivery.sent_at),
    )
    return item


def host_facts(incident: Incident, host: Any, context: dict | None) -> dict[str, Any]:
    """What the pipeline knew of the host (the latest context node) and what the hub knows now
    (the host's latest snapshot), each with its source and age: facts are never shown ageless."""
    now = timezone.now()
    facts: dict[str, Any] = {"host": incident.host or None, "used": None, "latest": None}
    if context:
        output = context["output"] if isinstance(context["output"], dict) else {}
        facts["used"] = {
            "run_id": context["run_id"],
            "available": bool(output.get("available")),
            "source": output.get("source"),
            "observed_at": output.get("observed_at"),
            "age_s_at_run": output.get("age_s"),
            "reason": output.get("reason"),
            "checks": {
                name: {"status": check.get("status"), "message": check.get("message", "")}
                for name, check in (output.get("checks") or {}).items()
                if isinstance(check, dict)
            },
        }
    if host is not None:
        snapshot = host.snapshot if isinstance(host.snapshot, dict) else {}
        facts["latest"] = {
            "name": host.name,
            "source": host.last_source,
            "snapshot_at": iso(host.snapshot_at),
            "age_s": round((now - host.snapshot_at).total_seconds()) if host.snapshot_at else None,
            "silent_since": iso(host.silent_since),
            "checks": {
                name: {"status": check.get("status"), "message": check.get("message", "")}
                for name, check in (snapshot.get("checks") or {}).items()
                if isinstance(check, dict)
            },
        }
    return facts


def timeline(
    alert_events: list[AlertEvent], events: list[IncidentEvent], story: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every part as one entry {at, kind, status, text, actor, ref}, newest first."""
    entries = [
        {
            "at": iso(event.created_at),
            "kind": "alert",
            "status": event.kind,
            "text": f"{event.alert.name}: {event.reason}",
            "actor": "",
            "ref": event.alert.pk,
        }
        for event in alert_events
    ]
    entries += [
        {
            "at": iso(event.created_at),
            "kind": "status",
            "status": event.to_status,
            "text": event.reason or f"{event.from_status or 'new'} -> {event.to_status}",
            "actor": f"{event.actor} ({event.via})" if event.actor or event.via else "",
            "ref": event.pk,
        }
        for event in events
    ]
    for run in story["runs"]:
        nodes = ", ".join(
            f"{node['id']} {node['status'].lower()}"
            + (f" {node['duration_ms']:.0f} ms" if node["duration_ms"] is not None else "")
            for node in run["nodes"]
        )
        entries.append(
            {
                "at": run["created_at"],
                "kind": "run",
                "status": run["status"],
                "text": f"run #{run['id']} of {run['definition']} ({run['outcome']}): "
                f"{nodes or 'no nodes ran'}",
                "actor": "",
                "ref": run["id"],
                "nodes": run["nodes"],
            }
        )
    entries += [
        {
            "at": item["created_at"],
            "kind": "analysis",
            "status": item["status"],
            "text": f"{item['provider']}: {item['summary'] or item['error'] or '(no summary)'}",
            "actor": "",
            "ref": item["id"],
        }
        for item in story["analyses"]
    ]
    entries += [
        {
            "at": item["at"],
            "kind": "delivery",
            "status": item["status"],
            "text": delivery_text(item),
            "actor": "",
            "ref": item["id"],
        }
        for item in story["deliveries"]
    ]
    entries.sort(key=lambda entry: entry["at"] or "", reverse=True)
    return entries


def delivery_text(item: dict[str, Any]) -> str:
    parts = [f"{item['driver']} to {item['destination'] or item['channel'] or '?'}", item["status"]]
    if item["response_code"] is not None:
        parts.append(f"HTTP {item['response_code']}")
    parts.append(f"{item['attempts']} attempt{'s' if item['attempts'] != 1 else ''}")
    if item["error"]:
        parts.append(item["error"])
    return ", ".join(parts)
