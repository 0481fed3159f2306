"""run_pipeline's input: the payload and the definition to run, refused in one line when unusable.

(A module starting with "_" is not a command.)"""

import difflib
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from apps.common import jsonio
from apps.orchestration.definition_orchestrator import DefinitionInactive, require_active
from apps.orchestration.models import PipelineDefinition
from apps.orchestration.portability import is_export_format, parse_document
from apps.orchestration.services import payload_problem


def did_you_mean(name: str) -> str:
    """' (did you mean: health-check?)' from the stored names; "" when none is close (the
    spec's message stays exact)."""
    names = list(PipelineDefinition.objects.order_by("name").values_list("name", flat=True))
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    return f" (did you mean: {', '.join(close)}?)" if close else ""


def read_json_file(path_text: str, what: str) -> Any:
    try:
        return jsonio.read_file(path_text, what)
    except jsonio.JsonInputError as exc:
        raise CommandError(str(exc)) from None


def load_payload(options: dict) -> Any:
    if options["payload"] is not None:
        try:
            payload = jsonio.loads(options["payload"])
        except jsonio.JsonInputError as exc:
            raise CommandError(f"Invalid JSON in --payload: {exc}") from exc
    elif options["file"] is not None:
        payload = read_json_file(options["file"], "Payload file")
    elif options["sample"]:
        from apps.alerts.samples import sample_payload

        try:
            payload = sample_payload(options["source"])
        except (KeyError, ValueError) as exc:
            raise CommandError(f"No sample payload for source {options['source']}: {exc}") from exc
    elif options["checks_only"] or options["dry_run"]:
        payload = {}  # the checks need no alert; a plan stores nothing
    else:  # a run of nothing would be stored as a FAILED run: refuse it first
        raise CommandError(
            "No input: give --payload JSON, --file PATH or --sample "
            "(or --checks-only for the built-in checks)"
        )
    if problem := payload_problem(payload):
        raise CommandError(problem)
    return payload


def load_definition(options: dict) -> tuple[PipelineDefinition, str | None]:
    if options["definition"] is not None:
        definition = PipelineDefinition.objects.filter(name=options["definition"]).first()
        if definition is None:
            raise CommandError(
                f"Pipeline definition not found: {options['definition']}"
                + did_you_mean(options["definition"])
            )
        try:
            if not options.get("dry_run"):  # a dry run checks one before it is switched on
                require_active(definition)
        except DefinitionInactive as exc:
            raise CommandError(str(exc)) from None
        return definition, None
    config = read_json_file(options["config"], "Config file")
    name = Path(options["config"]).stem
    if is_export_format(config):  # a file written by `pipelines export`
        document, problems = parse_document(config, options["config"])
        if document is None:
            raise CommandError(
                "Pipeline definition invalid:\n"
                + "\n".join(f"  - {problem.message}" for problem in problems)
            )
        name, config = document.name, document.config
    return PipelineDefinition(name=name, config=config), options["config"]
