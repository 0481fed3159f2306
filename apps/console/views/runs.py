"""The run page: the definition's graph coloured by node status, each node's record; resume."""

import json
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from apps.alerts.actions import ActionError
from apps.orchestration import graph
from apps.orchestration.definition import validate_definition
from apps.orchestration.incident_actions import resume
from apps.orchestration.models import PipelineRun, RunStatus
from apps.orchestration.spec import build_plan

from ..access import abilities, actor, require, viewer
from ..groups import START_RUNS

MAX_ID = 2**63 - 1
SHOWN_BYTES = 20_000


def pretty(value: Any) -> str:
    if value is None or value == [] or value == {}:
        return ""
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return text if len(text) <= SHOWN_BYTES else text[:SHOWN_BYTES] + "\n… (cut for the page)"


def drawing(config: Any, statuses: dict[str, str]) -> str:
    """The recorded definition's graph, nodes coloured by status ("" when it cannot be drawn)."""
    if not isinstance(config, dict) or not config or validate_definition(config):
        return ""
    # Every text in the SVG is escaped by graph.svg.
    return mark_safe(graph.svg(build_plan(config), statuses))  # noqa: S308


@viewer
def run_page(request: HttpRequest, run_id: int) -> HttpResponse:
    run = (
        PipelineRun.objects.filter(pk=run_id).select_related("incident").first()
        if run_id <= MAX_ID
        else None
    )
    if run is None:
        raise Http404("no such run")
    stages = list(run.stages.order_by("position", "id"))
    nodes = [
        {
            "stage": stage,
            "output": pretty(stage.output),
            "attempt_log": pretty(stage.attempt_log),
        }
        for stage in stages
    ]
    context = {
        "run": run,
        "nodes": nodes,
        "graph_svg": drawing(run.config_snapshot, {s.node_id: s.status for s in stages}),
        "payload": pretty(run.payload),
        "resumable": run.status == RunStatus.FAILED,
        "title": f"Run #{run.pk}",
        **abilities(request),
    }
    return render(request, "console/run.html", context)


@require_POST
@viewer
def resume_action(request: HttpRequest, run_id: int) -> HttpResponse:
    require(request, START_RUNS)
    try:
        result = resume(run_id, actor(request))
        messages.success(request, f"Run #{run_id} resumed: {result['status']}.")
    except ActionError as exc:
        messages.error(request, str(exc))
    return redirect("console:run", run_id=run_id)
