"""/api/definitions/: create, read, update, deactivate, validate, dry-run and execute."""

from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from ninja import Query, Router, Status

from apps.api.auth import EXECUTE, READ, WRITE
from apps.api.errors import ApiError, not_found
from apps.api.schemas import (
    AcceptedOut,
    DefinitionIn,
    DefinitionList,
    DefinitionOut,
    DefinitionPatch,
    DefinitionPut,
    ErrorOut,
    RunIn,
    ValidateIn,
    ValidateOut,
)
from apps.orchestration.definition import validate_definition
from apps.orchestration.definition_orchestrator import (
    DefinitionBasedOrchestrator,
    DefinitionInactive,
    require_active,
)
from apps.orchestration.dryrun import dry_run
from apps.orchestration.models import PipelineDefinition
from apps.orchestration.routing import match_problems
from apps.orchestration.secrets import mask, seal_definition
from apps.orchestration.services import create_run, dispatch, run_sources

router = Router(tags=["definitions"])

MAX_LIMIT = 500
MAX_OFFSET = 2**63 - 1  # a larger OFFSET overflows the database's integer
ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422)}


def definition_out(definition: PipelineDefinition) -> dict[str, Any]:
    return {
        "name": definition.name,
        "description": definition.description,
        "version": definition.version,
        "is_active": definition.is_active,
        "match": definition.match,
        "priority": definition.priority,
        "config": mask(definition.config),  # secrets are ***, for every scope
        "revisions": list(
            definition.revisions.order_by("version").values_list("version", flat=True)
        ),
        "created_at": definition.created_at,
        "updated_at": definition.updated_at,
    }


def get_definition(name: str) -> PipelineDefinition:
    definition = PipelineDefinition.objects.filter(name=name).first()
    if definition is None:
        raise not_found("pipeline definition", name)
    return definition


def problems_of(config: Any) -> list[dict[str, Any]]:
    return [problem.as_dict() for problem in validate_definition(config)]


def match_problem_dicts(match: Any) -> list[dict[str, Any]]:
    """Problems of a routing `match`; their path points into the request body."""
    if match is None:
        return []
    return [
        {"code": "invalid_match", "node": None, "path": "/match", "message": message}
        for message in match_problems(match)
    ]


def reject_invalid(problems: list[dict[str, Any]]) -> None:
    if problems:
        count = len(problems)
        raise ApiError(
            422,
            "invalid_definition",
            f"the definition has {count} problem{'s' if count != 1 else ''}; nothing was stored",
            problems=problems,
        )


def check_source(source: str) -> None:
    known = run_sources()
    if source not in known:
        raise ApiError(
            422, "unknown_source", f"unknown source {source!r}; known: {', '.join(known)}"
        )


def valid_orchestrator(definition: PipelineDefinition) -> DefinitionBasedOrchestrator:
    orchestrator = DefinitionBasedOrchestrator(definition)
    reject_invalid([problem.as_dict() for problem in orchestrator.problems()])
    return orchestrator


# --- CRUD -------------------------------------------------------------------------------------


@router.get("/", auth=READ, response={200: DefinitionList, **ERRORS})
def list_definitions(
    request: HttpRequest,
    active: bool | None = None,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
):
    """Definitions by priority then name; `active` filters on is_active."""
    rows = PipelineDefinition.objects.all()
    if active is not None:
        rows = rows.filter(is_active=active)
    items = [definition_out(d) for d in rows[offset : offset + limit]]
    return {"items": items, "count": rows.count()}


@router.post("/", auth=WRITE, response={201: DefinitionOut, **ERRORS})
def create_definition(request: HttpRequest, body: DefinitionIn):
    """Store a new definition; an invalid config is a 422 with its problems."""
    reject_invalid(problems_of(body.config) + match_problem_dicts(body.match))
    if PipelineDefinition.objects.filter(name=body.name).exists():
        raise ApiError(409, "already_exists", f"pipeline definition already exists: {body.name}")
    try:
        with transaction.atomic():
            definition = PipelineDefinition.objects.create(**body.model_dump())
    except IntegrityError:
        raise ApiError(
            409, "already_exists", f"pipeline definition already exists: {body.name}"
        ) from None
    return Status(201, definition_out(definition))


@router.get("/{name}", auth=READ, response={200: DefinitionOut, **ERRORS})
def read_definition(request: HttpRequest, name: str):
    return definition_out(get_definition(name))


def update(name: str, body: DefinitionPatch) -> dict[str, Any]:
    changes = {key: getattr(body, key) for key in body.model_fields_set}
    if changes.pop("name", name) != name:
        raise ApiError(422, "name_mismatch", "a definition cannot be renamed; omit 'name'")
    for key in ("description", "is_active", "priority"):
        if key in changes and changes[key] is None:
            raise ApiError(422, "invalid_request", f"'{key}' cannot be null")
    stored = get_definition(name)  # a 404 before any 422
    if "config" in changes:  # *** keeps a stored secret; new ones are sealed before anything
        changes["config"] = seal_definition(changes["config"], stored.config)
    problems = problems_of(changes["config"]) if "config" in changes else []
    reject_invalid(problems + match_problem_dicts(changes.get("match")))
    with transaction.atomic():
        definition = PipelineDefinition.objects.select_for_update().filter(name=name).first()
        if definition is None:
            raise not_found("pipeline definition", name)
        for key, value in changes.items():
            setattr(definition, key, value)
        definition.save()
    return definition_out(definition)


@router.put("/{name}", auth=WRITE, response={200: DefinitionOut, **ERRORS})
def replace_definition(request: HttpRequest, name: str, body: DefinitionPut):
    """Set a new config (required) and any other given fields; a changed config is a new version
    and the previous one is kept as a revision."""
    return update(name, body)


@router.patch("/{name}", auth=WRITE, response={200: DefinitionOut, **ERRORS})
def patch_definition(request: HttpRequest, name: str, body: DefinitionPatch):
    """Change only the given fields; a changed config is a new version."""
    return update(name, body)


@router.delete("/{name}", auth=WRITE, response={200: DefinitionOut, **ERRORS})
def deactivate_definition(request: HttpRequest, name: str):
    """Deactivate (nothing is deleted: runs keep their definition); PATCH is_active to undo."""
    with transaction.atomic():
        definition = PipelineDefinition.objects.select_for_update().filter(name=name).first()
        if definition is None:
            raise not_found("pipeline definition", name)
        if definition.is_active:
            definition.is_active = False
            definition.save(update_fields=["is_active", "updated_at"])
    return definition_out(definition)


# --- validate, dry-run, execute ----------------------------------------------------------------


@router.post("/{name}/validate", auth=READ, response={200: ValidateOut, **ERRORS})
def validate(request: HttpRequest, name: str, body: ValidateIn | None = None):
    """Problems of `config` in the body, else of the stored definition (200 either way)."""
    if body is not None and "config" in body.model_fields_set:
        problems = problems_of(body.config)
    else:
        problems = problems_of(get_definition(name).config)
    return {"valid": not problems, "problems": problems}


@router.post("/{name}/dry-run", auth=EXECUTE, response={200: dict[str, Any], **ERRORS})
def dry_run_definition(request: HttpRequest, name: str, body: RunIn | None = None):
    """The plan and the rendered notifications it would send; nothing is sent or stored."""
    body = body or RunIn.model_validate({})
    check_source(body.source)
    orchestrator = valid_orchestrator(get_definition(name))
    return dry_run(
        orchestrator,
        body.payload,
        source=body.source,
        environment=body.environment,
        trace_id=body.trace_id,
    )


@router.post(
    "/{name}/execute",
    auth=EXECUTE,
    response={200: dict[str, Any], 202: AcceptedOut, **ERRORS},
)
def execute(
    request: HttpRequest,
    name: str,
    body: RunIn | None = None,
    run_async: bool = Query(False, alias="async"),
):
    """Run it now and answer with the run result (the `run_pipeline --json` shape, also when the
    run FAILED); with `?async=1` queue it and answer 202 at once."""
    body = body or RunIn.model_validate({})
    check_source(body.source)
    definition = get_definition(name)
    try:
        require_active(definition)
        orchestrator = valid_orchestrator(definition)
        if not run_async:
            return orchestrator.execute(
                body.payload,
                source=body.source,
                trace_id=body.trace_id,
                environment=body.environment,
            )
    except DefinitionInactive:  # checked again by execute(): deactivated since we looked
        raise ApiError(
            409, "definition_inactive", f"pipeline definition is inactive: {name}"
        ) from None
    run = create_run(
        definition,
        body.payload,
        source=body.source,
        environment=body.environment,
        trace_id=body.trace_id,
    )
    dispatch([run.pk])
    return Status(202, {"run_id": run.pk, "trace_id": run.trace_id, "status": run.status})
