"""Actions on an incident that start runs (run again, resume), noted on its timeline.

The status changes themselves are apps.alerts.actions; these need runs, so they live here.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.alerts.actions import ActionError, Actor, note
from apps.alerts.models import Incident
from apps.orchestration.definition_orchestrator import DefinitionBasedOrchestrator
from apps.orchestration.models import PipelineDefinition, PipelineRun
from apps.orchestration.services import RunError, create_run, dispatch, resume_run, run_sources


def incident_payload(incident: Incident) -> tuple[Any, str]:
    """The payload and source to run the incident again with: those of its latest run, else
    its alerts as plain data (an incident stored with runs turned off)."""
    latest = (
        PipelineRun.objects.filter(incident=incident)
        .order_by("-id")
        .values("payload", "source")
        .first()
    )
    if latest:
        return latest["payload"], latest["source"]
    alerts = [
        {
            "name": alert.name,
            "status": alert.status,
            "severity": alert.severity,
            "host": alert.host,
            "description": alert.description,
            "labels": alert.labels,
        }
        for alert in incident.alerts.order_by("-id")[:100]
    ]
    source = incident.source if incident.source in run_sources() else "api"
    return {"incident": incident.as_dict(), "alerts": alerts}, source


def run_again(incident_id: int, definition_name: str, actor: Actor) -> int:
    """Start a new run of `definition_name` for the incident; returns its id (it runs in the
    background). Raises ActionError with a one-line reason."""
    incident = Incident.objects.filter(pk=incident_id).first()
    if incident is None:
        raise ActionError(f"incident {incident_id} does not exist", "not_found")
    definition = PipelineDefinition.objects.filter(name=definition_name, is_active=True).first()
    if definition is None:
        raise ActionError(f"no active definition named {definition_name!r}", "not_found")
    problems = DefinitionBasedOrchestrator(definition).validate()
    if problems:
        raise ActionError(f"definition {definition_name!r} is invalid: {problems[0]}", "invalid")
    payload, source = incident_payload(incident)
    with transaction.atomic():
        run = create_run(definition, payload, source=source, incident=incident)
        note(incident, actor, f"ran {definition.name} v{definition.version} again (run #{run.pk})")
        dispatch([run.pk])
    return run.pk


def resume(run_id: int, actor: Actor) -> dict[str, Any]:
    """Resume a FAILED run (see services.resume_run), noting it on the run's incident."""
    run = PipelineRun.objects.filter(pk=run_id).select_related("incident").first()
    if run is None:
        raise ActionError(f"run {run_id} does not exist", "not_found")
    try:
        result = resume_run(run_id)
    except RunError as exc:
        raise ActionError(str(exc), "conflict") from None
    if run.incident is not None:
        note(run.incident, actor, f"resumed run #{run_id} ({result['status'].lower()})")
    return result
