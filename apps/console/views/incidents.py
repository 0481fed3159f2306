"""The incident page (its whole story) and its actions: acknowledge, resolve, run again."""

import json
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.alerts.actions import ActionError, acknowledge, resolve
from apps.alerts.models import Incident
from apps.alerts.silences import SilenceError, matchers_of
from apps.common.matchers import render as render_matchers
from apps.orchestration.incident_actions import run_again
from apps.orchestration.incident_story import incident_story
from apps.orchestration.models import PipelineDefinition

from ..access import abilities, actor, require, viewer
from ..groups import ADD_SILENCE, CHANGE_INCIDENT, START_RUNS
from ..silences import DURATIONS, SILENCES_ENABLED, silence_incident

MAX_ID = 2**63 - 1


def get_incident(incident_id: int) -> Incident:
    incident = Incident.objects.filter(pk=incident_id).first() if incident_id <= MAX_ID else None
    if incident is None:
        raise Http404("no such incident")
    return incident


def analysis_view(analysis: Any) -> dict[str, Any] | None:
    """The latest analysis as the template shows it (lists made lists whatever was stored)."""
    if not isinstance(analysis, dict):
        return None
    recommendations = [r for r in analysis.get("recommendations") or [] if isinstance(r, dict)]
    for item in recommendations:
        commands = item.get("commands") or []
        item["commands"] = [commands] if isinstance(commands, str) else list(commands)
    evidence = analysis.get("evidence") or []
    return {
        **analysis,
        "recommendations": recommendations,
        "evidence": [evidence] if isinstance(evidence, str) else list(evidence),
        "confidence_pct": round(float(analysis.get("confidence") or 0) * 100),
    }


def host_matcher(host: str) -> str:
    """`host="web-07"`, quoted as Alertmanager quotes (the "Other silence..." link's start)."""
    if not host:
        return ""
    return 'host="' + host.replace("\\", "\\\\").replace('"', '\\"') + '"'


@viewer
def incident_page(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = get_incident(incident_id)
    story = incident_story(incident)
    context = {
        "incident": incident,
        "story": story,
        "analysis": analysis_view(story["latest_analysis"]),
        "analysis_json": json.dumps(story["latest_analysis"], indent=2, default=str),
        "definitions": list(
            PipelineDefinition.objects.filter(is_active=True).values_list("name", flat=True)
        ),
        "silences_enabled": SILENCES_ENABLED,
        "silence_durations": DURATIONS,
        "silence_matchers": host_matcher(incident.host),
        "title": f"#{incident.pk} {incident.title}",
        **abilities(request),
    }
    return render(request, "console/incident.html", context)


@require_POST
@viewer
def incident_action(request: HttpRequest, incident_id: int, action: str) -> HttpResponse:
    get_incident(incident_id)
    comment = request.POST.get("comment", "")
    try:
        if action in ("ack", "resolve"):
            require(request, CHANGE_INCIDENT)
            event = (acknowledge if action == "ack" else resolve)(
                incident_id, actor(request), comment
            )
            messages.success(request, f"Incident {incident_id} {event.reason}.")
        elif action == "silence":
            require(request, ADD_SILENCE)
            silence = silence_incident(
                get_incident(incident_id),
                request.POST.get("duration", ""),
                request.POST.get("comment", "").strip(),
                request.user.get_username(),
            )
            shown = render_matchers(matchers_of(silence))
            messages.success(request, f"Silence #{silence.pk} added: {shown}.")
        elif action == "run":
            require(request, START_RUNS)
            run_id = run_again(incident_id, request.POST.get("definition", ""), actor(request))
            messages.success(request, f"Run #{run_id} started.")
        else:
            raise Http404("no such action")
    except (ActionError, SilenceError) as exc:
        messages.error(request, str(exc))
    return redirect("console:incident", incident_id=incident_id)
