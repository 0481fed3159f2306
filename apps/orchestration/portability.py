"""Import and export of pipeline definitions as JSON files.

Two file formats are read:
- the export format: {"name", "description", "match", "priority", "is_active", "config"};
- a bare definition config: {"version", "description", "nodes", ...}, named after the file stem.

Export writes the first one; export -> import -> export gives the same bytes.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from apps.common import jsonio

from .definition import validate_definition
from .models import PipelineDefinition
from .secrets import mask, seal_definition
from .spec import Problem

EXPORT_KEYS = ("name", "description", "match", "priority", "is_active", "config")
MAX_FILE_BYTES = 10 * 1024 * 1024
NAME_RE = re.compile(r"^[-a-zA-Z0-9_]{1,100}$")
PRIORITY_RANGE = (-2147483648, 2147483647)


@dataclass
class Document:
    """One definition read from a file, not yet stored."""

    name: str
    config: Any
    fields: dict[str, Any] = field(default_factory=dict)  # the non-config fields the file sets
    source: str = ""


@dataclass
class ImportOutcome:
    action: str  # created | updated | unchanged
    definition: PipelineDefinition
    changed: list[str] = field(default_factory=list)


def export_document(definition: PipelineDefinition) -> dict[str, Any]:
    return {
        "name": definition.name,
        "description": definition.description,
        "match": definition.match,
        "priority": definition.priority,
        "is_active": definition.is_active,
        "config": mask(definition.config),  # secrets are not exported
    }


def dumps(document: Any) -> str:
    """The one JSON text form used by export (stable key order, unicode kept)."""
    return json.dumps(document, indent=2, ensure_ascii=False)


def read_json(path_text: str) -> tuple[Any, list[Problem]]:
    """Parse a JSON file; every failure is a Problem, never an exception."""
    if not path_text.strip():
        return None, [Problem("not_found", "Empty file path")]
    path = Path(path_text)
    if path.is_dir():
        return None, [Problem("not_a_file", f"Not a file (a directory): {path_text}")]
    if not path.is_file():
        return None, [Problem("not_found", f"File not found: {path_text}")]
    if path.stat().st_size > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // (1024 * 1024)
        return None, [Problem("too_large", f"File is larger than {limit} MiB: {path_text}")]
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem("unreadable", f"Cannot read {path_text}: {exc}")]
    try:
        return jsonio.loads(text), []
    except jsonio.JsonInputError as exc:
        return None, [Problem("invalid_json", f"Invalid JSON in {path_text}: {exc}")]


def is_export_format(data: Any) -> bool:
    return isinstance(data, dict) and "config" in data and "nodes" not in data


def _field_problems(data: dict) -> list[Problem]:
    problems = [
        Problem("unknown_key", f"Unknown key in definition file: '{key}'", None, f"/{key}")
        for key in data
        if key not in EXPORT_KEYS
    ]
    if "description" in data and not isinstance(data["description"], str):
        problems.append(
            Problem("invalid_field", "'description' must be a string", None, "/description")
        )
    priority = data.get("priority", 100)
    if not isinstance(priority, int) or isinstance(priority, bool):
        problems.append(
            Problem("invalid_field", "'priority' must be an integer", None, "/priority")
        )
    elif not PRIORITY_RANGE[0] <= priority <= PRIORITY_RANGE[1]:
        problems.append(Problem("invalid_field", "'priority' is out of range", None, "/priority"))
    if "is_active" in data and not isinstance(data["is_active"], bool):
        problems.append(
            Problem("invalid_field", "'is_active' must be true or false", None, "/is_active")
        )
    if data.get("match") is not None:
        from apps.orchestration.routing import match_problems

        for message in match_problems(data["match"]):
            problems.append(Problem("invalid_match", message, None, "/match"))
    return problems


def name_problems(name: Any) -> list[Problem]:
    if not isinstance(name, str) or not NAME_RE.match(name):
        return [
            Problem(
                "invalid_name",
                f"Invalid definition name: {name!r} (1-100 letters, digits, '-' or '_')",
                None,
                "/name",
            )
        ]
    return []


def _prefixed(problems: list[Problem], prefix: str) -> list[Problem]:
    """Definition problems point into config; in an export file config sits under /config."""
    return [Problem(p.code, p.message, p.node, prefix + p.path) for p in problems]


def parse_document(data: Any, source: str) -> tuple[Document | None, list[Problem]]:
    """A Document from parsed JSON (either format) plus every problem found."""
    if is_export_format(data):
        problems = _field_problems(data) + name_problems(data.get("name"))
        problems += _prefixed(validate_definition(data["config"]), "/config")
        fields = {
            key: data[key] for key in EXPORT_KEYS if key in data and key not in ("name", "config")
        }
        document = Document(str(data.get("name")), data["config"], fields, source)
    else:
        name = Path(source).stem
        problems = name_problems(name) + validate_definition(data)
        description = data.get("description", "") if isinstance(data, dict) else ""
        document = Document(name, data, {"description": description}, source)
    return (None if problems else document), problems


def load_file(path_text: str) -> tuple[Document | None, list[Problem]]:
    data, problems = read_json(path_text)
    if problems:
        return None, problems
    return parse_document(data, path_text)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _changes(definition: PipelineDefinition, document: Document) -> list[str]:
    changed = [
        key
        for key, value in document.fields.items()
        if canonical(getattr(definition, key)) != canonical(value)
    ]
    if canonical(definition.config) != canonical(document.config):
        changed.append("config")
    return changed


def store(document: Document) -> ImportOutcome:
    """Create the definition, or update it only when a field differs (config -> new version)."""
    with transaction.atomic():
        definition = (
            PipelineDefinition.objects.select_for_update().filter(name=document.name).first()
        )
        if definition is None:
            definition = PipelineDefinition(
                name=document.name, config=document.config, **document.fields
            )
            definition.save()
            return ImportOutcome("created", definition)
        document.config = seal_definition(document.config, definition.config)
        changed = _changes(definition, document)
        if not changed:
            return ImportOutcome("unchanged", definition)
        for key, value in document.fields.items():
            setattr(definition, key, value)
        definition.config = document.config
        definition.save()
        return ImportOutcome("updated", definition, changed)
