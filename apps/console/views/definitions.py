"""Definitions: the list, and a page per definition with its graph, versions, the diff
between two versions, validation, and a dry-run against a pasted payload or a stored
incident (the rendered notifications it would send; nothing is sent or stored)."""

import difflib
import json
from typing import Any

from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe

from apps.alerts.models import Incident
from apps.common import jsonio
from apps.orchestration import graph
from apps.orchestration.definition import validate_definition
from apps.orchestration.definition_orchestrator import DefinitionBasedOrchestrator
from apps.orchestration.dryrun import dry_run
from apps.orchestration.incident_actions import incident_payload
from apps.orchestration.models import PipelineDefinition, PipelineRun
from apps.orchestration.portability import parse_document
from apps.orchestration.secrets import mask
from apps.orchestration.services import payload_problem, run_sources
from apps.orchestration.spec import build_plan

from ..access import viewer

PAYLOAD_MAX_CHARS = 256 * 1024


@viewer
def definition_list(request: HttpRequest) -> HttpResponse:
    last = PipelineRun.objects.filter(definition=OuterRef("pk")).order_by("-id")
    definitions = PipelineDefinition.objects.defer("config").annotate(
        last_run_id=Subquery(last.values("id")[:1]),
        last_run_status=Subquery(last.values("status")[:1]),
        last_run_at=Subquery(last.values("created_at")[:1]),
    )
    rows = [
        {"definition": d, "match": json.dumps(d.match, sort_keys=True) if d.match else ""}
        for d in definitions
    ]
    return render(request, "console/definitions.html", {"rows": rows, "title": "Definitions"})


def versions_of(definition: PipelineDefinition) -> dict[int, Any]:
    """version -> config, the current one included; secrets shown as ***."""
    versions = {v: mask(c) for v, c in definition.revisions.values_list("version", "config")}
    versions[definition.version] = mask(definition.config)
    return versions


def version_diff(versions: dict[int, Any], old: int, new: int) -> list[tuple[str, str]]:
    """(css class, line) of a unified diff between two versions' configs."""

    def lines(version: int) -> list[str]:
        return json.dumps(versions[version], indent=2, sort_keys=True).splitlines()

    kinds = {"+": "add", "-": "del", "@": "hunk", "+++": "hunk", "---": "hunk"}
    return [
        (kinds.get(line[:3]) or kinds.get(line[:1], ""), line)
        for line in difflib.unified_diff(
            lines(old), lines(new), f"v{old}", f"v{new}", lineterm="", n=3
        )
    ]


def chosen_versions(request: HttpRequest, versions: dict[int, Any]) -> tuple[int, int] | None:
    ordered = sorted(versions)
    if len(ordered) < 2:
        return None
    try:
        old = int(request.GET.get("from", ordered[-2]))
        new = int(request.GET.get("to", ordered[-1]))
    except ValueError:
        return None
    return (old, new) if old in versions and new in versions and old != new else None


def dry_run_form(request: HttpRequest, definition: PipelineDefinition) -> dict[str, Any]:
    """The dry-run's result, or the one-line reason it could not run."""
    form = {
        "payload": request.POST.get("payload", "")[:PAYLOAD_MAX_CHARS],
        "incident": request.POST.get("incident", "").strip(),
        "source": request.POST.get("source", "api"),
    }
    if form["source"] not in run_sources():
        return {"form": form, "error": f"unknown source {form['source']!r}"}
    if form["incident"]:
        incident = (
            Incident.objects.filter(pk=int(form["incident"])).first()
            if form["incident"].isdigit() and len(form["incident"]) < 19
            else None
        )
        if incident is None:
            return {"form": form, "error": f"no incident {form['incident']!r}"}
        payload, source = incident_payload(incident)
    else:
        try:
            payload = jsonio.loads(form["payload"] or "{}")
        except jsonio.JsonInputError as exc:
            return {"form": form, "error": f"the payload is not JSON: {exc}"}
        if problem := payload_problem(payload):
            return {"form": form, "error": problem}
        source = form["source"]
    orchestrator = DefinitionBasedOrchestrator(definition)
    problems = orchestrator.problems()
    if problems:
        return {"form": form, "error": f"the definition is invalid: {problems[0].message}"}
    result = dry_run(orchestrator, payload, source=source, environment="production")
    return {"form": form, "result": result}


def pasted_config(text: str) -> dict[str, Any]:
    """Validation of a config pasted into the page (before it is saved in the admin): either
    file format, read as `pipelines validate` and `run_pipeline --config` read a file."""
    try:
        config = jsonio.loads(text)
    except jsonio.JsonInputError as exc:
        return {"text": text, "problems": [f"not JSON: {exc}"]}
    problems = [
        f"{problem.node}: {problem.message}" if problem.node else problem.message
        for problem in parse_document(config, "pasted.json")[1]
    ]
    return {"text": text, "problems": problems, "valid": not problems}


@viewer
def definition_page(request: HttpRequest, name: str) -> HttpResponse:
    definition = PipelineDefinition.objects.filter(name=name).first()
    if definition is None:
        raise Http404("no such definition")
    versions = versions_of(definition)
    pair = chosen_versions(request, versions)
    problems = validate_definition(definition.config)
    context: dict[str, Any] = {
        "definition": definition,
        "config_json": json.dumps(mask(definition.config), indent=2, sort_keys=True),
        "versions": sorted(versions, reverse=True),
        "pair": pair,
        "diff": version_diff(versions, *pair) if pair else [],
        "problems": problems,
        "sources": run_sources(),
        "runs": list(
            PipelineRun.objects.filter(definition=definition)
            .only("id", "status", "created_at", "duration_ms", "incident_id", "definition_version")
            .order_by("-id")[:20]
        ),
        "dry": {"form": {"source": "api", "payload": "", "incident": ""}},
        "title": f"Definition {definition.name}",
    }
    if not problems:
        plan = build_plan(definition.config)
        context["graph_svg"] = mark_safe(graph.svg(plan))  # noqa: S308 - escaped by graph.svg
    if request.method == "POST" and "config" in request.POST:
        context["pasted"] = pasted_config(request.POST["config"][:PAYLOAD_MAX_CHARS])
    elif request.method == "POST":
        context["dry"] = dry_run_form(request, definition)
    return render(request, "console/definition.html", context)
