"""Validation of a definition: `validate_definition()` returns every problem it finds and never
raises. The fields' rules are in rules.py, the graph algorithms in dag.py, the data in spec.py.

Plain code, so that validating a definition costs no heavy import (the CLI's `--dry-run`
start-up time depends on it).
"""

import re
from typing import Any

from apps.common import templating
from apps.common.text import json_shown, one_line, shown

from . import dag
from .nodes import NODE_TYPES, get_handler
from .rules import DEFAULT_RULES, NODE_ID_RE, NODE_KEYS, NODE_RULES, TOP_LEVEL_KEYS
from .spec import Problem

NODE_REF_RE = re.compile(
    r"\bnodes\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)|\bnodes\s*\[\s*['\"]([^'\"]+)['\"]\s*\]"
)


def _node_label(raw: Any, index: int) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str) and raw["id"]:
        return json_shown(raw["id"])
    return f"#{index + 1}"


def _field_problems(raw: dict, label: str, index: int) -> list[Problem]:
    """Types and ranges of node-level keys."""
    problems = []
    for key, rule in NODE_RULES.items():
        message = rule.problem(raw[key]) if key in raw else None
        if message:
            problems.append(
                Problem(
                    "invalid_field",
                    f"Node '{label}' has invalid '{key}': {message}",
                    label,
                    f"/nodes/{index}/{key}",
                )
            )
    return problems


def _defaults_problems(defaults: Any) -> list[Problem]:
    if not isinstance(defaults, dict):
        return [Problem("invalid_field", "'defaults' must be a JSON object", None, "/defaults")]
    problems = []
    for key, value in defaults.items():
        rule = DEFAULT_RULES.get(key)
        message = "unknown key" if rule is None else rule.problem(value)
        if message:
            problems.append(
                Problem(
                    "invalid_field",
                    f"Invalid defaults.{shown(key)}: {message}",
                    None,
                    f"/defaults/{key}",
                )
            )
    return problems


# "1", 1, 1.0 and "1.0" (the form of the system the format came from) all name version 1.
VERSION_1_TEXTS = frozenset({"1", "1.0"})


def is_version_1(version: Any) -> bool:
    if isinstance(version, bool):
        return False
    if isinstance(version, int | float):
        return version == 1
    return isinstance(version, str) and version.strip() in VERSION_1_TEXTS


def _structure_problems(config: Any) -> tuple[list[Problem], list[dict]]:
    problems: list[Problem] = []
    if not isinstance(config, dict):
        return [Problem("invalid_definition", "Definition must be a JSON object")], []
    for key in config:
        if key not in TOP_LEVEL_KEYS:
            problems.append(
                Problem("unknown_key", f"Unknown top-level key: '{shown(key)}'", None, f"/{key}")
            )
    version = config.get("version", "1")
    if not is_version_1(version):
        problems.append(
            Problem(
                "invalid_field",
                f"Unsupported version: '{json_shown(version)}' (supported: 1)",
                None,
                "/version",
            )
        )
    if "description" in config and not isinstance(config["description"], str):
        problems.append(
            Problem("invalid_field", "'description' must be a string", None, "/description")
        )
    if "defaults" in config:
        problems.extend(_defaults_problems(config["defaults"]))
    nodes = config.get("nodes")
    if nodes is None or nodes == []:
        problems.append(Problem("no_nodes", "Definition has no nodes", None, "/nodes"))
        return problems, []
    if not isinstance(nodes, list):
        problems.append(Problem("invalid_field", "'nodes' must be a list", None, "/nodes"))
        return problems, []
    return problems, nodes


def _node_problems(nodes: list) -> tuple[list[Problem], dict[str, int]]:
    problems: list[Problem] = []
    index_of: dict[str, int] = {}
    for index, raw in enumerate(nodes):
        label = _node_label(raw, index)
        path = f"/nodes/{index}"
        if not isinstance(raw, dict):
            problems.append(
                Problem("invalid_node", f"Node {label} must be a JSON object", None, path)
            )
            continue
        node_id = raw.get("id")
        if node_id is None or node_id == "":
            problems.append(
                Problem("missing_field", f"Node {label} is missing 'id'", None, f"{path}/id")
            )
        elif not isinstance(node_id, str):
            problems.append(
                Problem(
                    "invalid_field",
                    f"Node {label} has an invalid 'id': it must be a string",
                    None,
                    f"{path}/id",
                )
            )
        elif not NODE_ID_RE.fullmatch(node_id):
            problems.append(
                Problem(
                    "invalid_field",
                    f"Node '{json_shown(node_id)}' has an invalid id "
                    "(1 to 100 letters, digits, _ . -, not starting with . or -)",
                    node_id,
                    f"{path}/id",
                )
            )
        elif node_id in index_of:
            problems.append(
                Problem("duplicate_id", f"Duplicate node id: '{node_id}'", node_id, f"{path}/id")
            )
        else:
            index_of[node_id] = index
        for key in raw:
            if key not in NODE_KEYS:
                problems.append(
                    Problem(
                        "unknown_key",
                        f"Node '{label}' has unknown key: '{shown(key)}'",
                        label,
                        f"{path}/{key}",
                    )
                )
        node_type = raw.get("type")
        if node_type is None or node_type == "":
            problems.append(
                Problem("missing_field", f"Node '{label}' is missing 'type'", label, f"{path}/type")
            )
        elif not isinstance(node_type, str) or node_type not in NODE_TYPES:
            problems.append(
                Problem(
                    "unknown_type",
                    f"Node '{label}' has unknown type: {json_shown(node_type)}",
                    label,
                    f"{path}/type",
                )
            )
        problems.extend(_field_problems(raw, label, index))
    return problems, index_of


def _edge_problems(nodes: list, index_of: dict[str, int]) -> list[Problem]:
    problems = []
    for node_id, index in index_of.items():
        nxt = nodes[index].get("next")
        targets = [nxt] if isinstance(nxt, str) else nxt if isinstance(nxt, list) else []
        for target in targets:
            if isinstance(target, str) and target not in index_of:
                problems.append(
                    Problem(
                        "missing_next",
                        f"Node '{node_id}' references non-existent next: '{json_shown(target)}'",
                        node_id,
                        f"/nodes/{index}/next",
                    )
                )
            if target == node_id:
                problems.append(
                    Problem(
                        "cycle",
                        f"Node '{node_id}' points to itself",
                        node_id,
                        f"/nodes/{index}/next",
                    )
                )
    return problems


def _cycle_text(cycle: list[str]) -> str:
    if len(cycle) <= 12:
        return " -> ".join(cycle)
    return (
        " -> ".join(cycle[:5]) + f" -> ... ({len(cycle) - 10} more) -> " + " -> ".join(cycle[-5:])
    )


def _graph_problems(nodes: list, index_of: dict[str, int]) -> list[Problem]:
    if not index_of:
        return []
    succ = dag.successors(nodes, index_of)
    problems = []
    cycle = dag.find_cycle(succ)
    if cycle:
        problems.append(
            Problem(
                "cycle",
                "Cycle detected between nodes: " + _cycle_text(cycle),
                cycle[0],
                f"/nodes/{index_of[cycle[0]]}/next",
            )
        )
    entry = _node_label(nodes[0], 0)
    if entry in index_of:
        reachable = dag.reachable(entry, succ)
        for node_id, index in index_of.items():
            if node_id not in reachable:
                problems.append(
                    Problem(
                        "unreachable",
                        f"Node '{node_id}' is unreachable from entry node '{entry}'",
                        node_id,
                        f"/nodes/{index}",
                    )
                )
    return problems


def referenced_nodes(value: Any) -> set[str]:
    """Node ids named as `nodes.<id>` in templates and expressions inside value."""
    found: set[str] = set()
    if isinstance(value, str):
        for match in NODE_REF_RE.finditer(value):
            found.add(match.group(1) or match.group(2))
    elif isinstance(value, dict):
        for item in value.values():
            found |= referenced_nodes(item)
    elif isinstance(value, list):
        for item in value:
            found |= referenced_nodes(item)
    return found


def _template_problems(value: Any, label: str, path: str) -> list[Problem]:
    problems = []
    if isinstance(value, str):
        if templating.has_template(value):
            error = templating.check_syntax(value)
            if error:
                problems.append(
                    Problem(
                        "invalid_template",
                        one_line(f"Node '{label}' config {path}: {error}"),
                        label,
                        path,
                    )
                )
    elif isinstance(value, dict):
        for key, item in value.items():
            problems.extend(_template_problems(item, label, f"{path}/{key}"))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            problems.extend(_template_problems(item, label, f"{path}/{i}"))
    return problems


def _reference_problems(raw: dict, label: str, index: int, known: set[str]) -> list[Problem]:
    problems = []
    for key in ("config", "when"):
        for ref in sorted(referenced_nodes(raw.get(key))):
            if ref not in known:
                problems.append(
                    Problem(
                        "unknown_reference",
                        f"Node '{label}' references unknown node '{ref}' in {key}",
                        label,
                        f"/nodes/{index}/{key}",
                    )
                )
    return problems


def _config_problems(nodes: list, index_of: dict[str, int]) -> list[Problem]:
    problems: list[Problem] = []
    known = set(index_of)
    for node_id, index in index_of.items():
        raw = nodes[index]
        path = f"/nodes/{index}"
        when = raw.get("when")
        if isinstance(when, str):
            error = templating.check_expression(when)
            if error:
                problems.append(
                    Problem(
                        "invalid_when",
                        f"Node '{node_id}' has invalid when: {error}",
                        node_id,
                        f"{path}/when",
                    )
                )
        problems.extend(_reference_problems(raw, node_id, index, known))
        config = raw.get("config", {})
        if config is None:
            config = {}
        if not isinstance(config, dict):
            problems.append(
                Problem(
                    "invalid_config",
                    f"Node '{node_id}' config must be a JSON object",
                    node_id,
                    f"{path}/config",
                )
            )
            continue
        problems.extend(_template_problems(config, node_id, f"{path}/config"))
        node_type = raw.get("type")
        if not isinstance(node_type, str) or node_type not in NODE_TYPES:
            continue
        handler = get_handler(node_type)
        try:
            messages = handler.validate_config(config, known_nodes=known)
        except Exception as exc:  # a validator bug must not crash validation
            messages = [f"could not be validated ({exc})"]
        for message in messages:
            problems.append(
                Problem(
                    "invalid_config",
                    f"Node '{node_id}' config: {one_line(message)}",
                    node_id,
                    f"{path}/config",
                )
            )
    return problems


def validate_definition(config: Any) -> list[Problem]:
    """Every problem of a definition config; an empty list means it is valid."""
    try:
        problems, nodes = _structure_problems(config)
        if not nodes:
            return problems
        node_problems, index_of = _node_problems(nodes)
        problems += node_problems
        problems += _edge_problems(nodes, index_of)
        problems += _graph_problems(nodes, index_of)
        problems += _config_problems(nodes, index_of)
        return problems
    except Exception as exc:  # never raise: report it as a problem
        message = one_line(f"Definition could not be validated: {exc}")
        return [Problem("invalid_definition", message)]
