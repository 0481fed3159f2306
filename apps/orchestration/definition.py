"""The definition format: its fields (also the JSON Schema) plus graph validation.

`validate_definition()` returns every problem it finds and never raises. The field rules below are
the single source for both validation and `schema()`; plain code, so that validating a definition
costs no heavy import (the CLI's `--dry-run` start-up time depends on it).
"""

import math
import re
from dataclasses import dataclass, field
from typing import Any

from apps.common import templating

NODE_ID_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")
NODE_REF_RE = re.compile(
    r"\bnodes\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)|\bnodes\s*\[\s*['\"]([^'\"]+)['\"]\s*\]"
)
SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True)
class Rule:
    """What one field accepts: a JSON type, an optional range, whether null is allowed."""

    kind: str  # "integer", "number", "boolean", "string" or "next"
    description: str
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    nullable: bool = False

    def problem(self, value: Any) -> str | None:
        """Why value is not acceptable, or None."""
        if value is None:
            return None if self.nullable else f"must be {self._expected()}, not null"
        if self.kind == "next":
            if isinstance(value, str) or (
                isinstance(value, list) and all(isinstance(v, str) for v in value)
            ):
                return None
            return "must be a node id, a list of node ids, or null"
        if not _has_kind(value, self.kind):
            return f"must be {self._expected()}, not {_json_type(value)}"
        numeric = self.kind in ("integer", "number")
        infinite = isinstance(value, float) and not math.isfinite(value)
        if numeric and (infinite or not self._in_range(value)):
            return f"must be {self._expected()}, got {shown(value, 20)}"
        return None

    def _in_range(self, value: float) -> bool:
        below = self.minimum is not None and (
            value < self.minimum or (self.exclusive_minimum and value == self.minimum)
        )
        if below:
            return False
        return self.maximum is None or value <= self.maximum

    def _expected(self) -> str:
        noun = {"integer": "an integer", "number": "a number", "boolean": "true or false"}
        text = noun.get(self.kind, "a string")
        if self.minimum is None:
            return text
        if self.exclusive_minimum:
            return f"{text} greater than {self.minimum:g} and at most {self.maximum:g}"
        return f"{text} from {self.minimum:g} to {self.maximum:g}"

    def json_schema(self) -> dict[str, Any]:
        if self.kind == "next":
            one = {"type": "string"}
            schema: dict[str, Any] = {"anyOf": [one, {"type": "array", "items": one}]}
        else:
            schema = {"type": self.kind}
            if self.minimum is not None:
                key = "exclusiveMinimum" if self.exclusive_minimum else "minimum"
                schema[key] = self.minimum
            if self.maximum is not None:
                schema["maximum"] = self.maximum
        if self.nullable:
            schema = {"anyOf": [*schema.get("anyOf", [schema]), {"type": "null"}]}
        schema["description"] = self.description
        if self.default is not None or self.nullable:
            schema["default"] = self.default
        return schema


def shown(value: Any, limit: int = 120) -> str:
    """A value from the definition as it may appear in a one-line message: ordinary text as it
    is, control characters escaped, long text cut, and anything else as a bounded repr."""
    if isinstance(value, str):
        text = value if value.isprintable() else repr(value)[1:-1]
    else:
        try:
            text = repr(value)
        except ValueError:  # an int beyond Python's digit limit for printing
            return "a number too large to show"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def one_line(text: str, limit: int = 300) -> str:
    """A message made of other messages (a node type's own check, a template error) on one line."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _has_kind(value: Any, kind: str) -> bool:
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if isinstance(value, bool):  # JSON true is not a number
        return False
    if kind == "integer":  # 2.0 is an integer in JSON (and in the JSON Schema)
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    return isinstance(value, (int, float))


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else type(value).__name__


RETRIES = "Retries after a failed attempt."
BACKOFF = "Seconds before the first retry; doubles each retry."
TIMEOUT = "Seconds one attempt may take."
DEFAULT_RULES = {
    "retries": Rule("integer", RETRIES, 0, 0, 10),
    "retry_backoff_s": Rule("number", BACKOFF, 1.0, 0, 300),
    "timeout_s": Rule("number", TIMEOUT, 30.0, 0, 3600, exclusive_minimum=True),
}
NODE_RULES = {
    "next": Rule("next", "Next node id(s); absent or null = end.", nullable=True),
    "required": Rule("boolean", "A failed required node fails the run.", True),
    "enabled": Rule(
        "boolean", "false: the node is skipped; edges pass through it to its successors.", True
    ),
    "when": Rule("string", "Jinja2 expression; false skips the node.", nullable=True),
    "retries": Rule("integer", RETRIES, None, 0, 10, nullable=True),
    "retry_backoff_s": Rule("number", BACKOFF, None, 0, 300, nullable=True),
    "timeout_s": Rule("number", TIMEOUT, None, 0, 3600, exclusive_minimum=True, nullable=True),
}
TOP_LEVEL_KEYS = {"version", "description", "defaults", "nodes"}
NODE_KEYS = {"id", "type", "config", *NODE_RULES}


@dataclass(frozen=True)
class Defaults:
    retries: int = 0
    retry_backoff_s: float = 1.0
    timeout_s: float = 30.0


@dataclass
class NodeSpec:
    """One node of a definition."""

    id: str
    type: str
    config: dict[str, Any] = field(default_factory=dict)
    next: str | list[str] | None = None
    required: bool = True
    enabled: bool = True
    when: str | None = None
    retries: int | None = None
    retry_backoff_s: float | None = None
    timeout_s: float | None = None

    def next_ids(self) -> list[str]:
        if self.next is None:
            return []
        return [self.next] if isinstance(self.next, str) else list(self.next)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "NodeSpec":
        fields = {key: raw[key] for key in NODE_RULES if key in raw}
        if isinstance(fields.get("next"), list):
            fields["next"] = list(fields["next"])
        if fields.get("retries") is not None:
            fields["retries"] = int(fields["retries"])  # 2.0 is valid JSON for 2
        return cls(id=raw["id"], type=raw["type"], config=raw.get("config") or {}, **fields)


@dataclass
class DefinitionSpec:
    """A pipeline definition: a graph of nodes; the first node is the entry node."""

    nodes: list[NodeSpec]
    version: str = "1"
    description: str = ""
    defaults: Defaults = field(default_factory=Defaults)

    @classmethod
    def from_dict(cls, config: dict[str, Any]) -> "DefinitionSpec":
        defaults = dict(config.get("defaults") or {})
        if "retries" in defaults:
            defaults["retries"] = int(defaults["retries"])
        return cls(
            nodes=[NodeSpec.from_dict(raw) for raw in config["nodes"]],
            version="1",  # the only version; validation refused any other
            description=config.get("description") or "",
            defaults=Defaults(**defaults),
        )


@dataclass
class Problem:
    code: str
    message: str
    node: str | None = None
    path: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "node": self.node, "path": self.path, "message": self.message}


@dataclass
class Plan:
    """A validated definition, ready for the engine."""

    spec: DefinitionSpec
    order: list[str]
    nodes: dict[str, NodeSpec]
    predecessors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def entry(self) -> str:
        return self.spec.nodes[0].id


def _object_schema(title: str, description: str, properties: dict, required: list) -> dict:
    return {
        "type": "object",
        "title": title,
        "description": description,
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a definition, built from the same rules."""
    defaults = _object_schema(
        "Defaults",
        "Values for nodes that do not set their own.",
        {key: rule.json_schema() for key, rule in DEFAULT_RULES.items()},
        [],
    )
    node_properties = {
        "id": {"type": "string", "pattern": NODE_ID_RE.pattern, "description": "Unique node id."},
        "type": {
            "type": "string",
            "description": "Node type: context, intelligence, notify, ingest, transform.",
        },
        "config": {
            "type": ["object", "null"],
            "description": "Settings of the node type (null: none).",
            "default": {},
        },
        **{key: rule.json_schema() for key, rule in NODE_RULES.items()},
    }
    node = _object_schema("NodeSpec", "One node of a definition.", node_properties, ["id", "type"])
    top = _object_schema(
        "Pipeline definition",
        "A pipeline definition: a graph of nodes; the first node is the entry node.",
        {
            "version": {"enum": ["1", 1], "default": "1", "description": "Format version."},
            "description": {"type": "string", "default": ""},
            "defaults": {"$ref": "#/$defs/Defaults"},
            "nodes": {"type": "array", "items": {"$ref": "#/$defs/NodeSpec"}, "minItems": 1},
        },
        ["nodes"],
    )
    return {"$schema": SCHEMA_URI, **top, "$defs": {"Defaults": defaults, "NodeSpec": node}}


def _node_label(raw: Any, index: int) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str) and raw["id"]:
        return shown(raw["id"])
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
    number = isinstance(version, int | float) and not isinstance(version, bool)
    if version != "1" and not (number and version == 1):
        problems.append(
            Problem(
                "invalid_field",
                f"Unsupported version: '{shown(version)}' (supported: 1)",
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


def _node_problems(nodes: list, registry: dict[str, Any]) -> tuple[list[Problem], dict[str, int]]:
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
                    f"Node '{shown(node_id)}' has an invalid id (use letters, digits, _ . -)",
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
        elif not isinstance(node_type, str) or node_type not in registry:
            problems.append(
                Problem(
                    "unknown_type",
                    f"Node '{label}' has unknown type: {shown(node_type)}",
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
                        f"Node '{node_id}' references non-existent next: '{shown(target)}'",
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


def _successors(nodes: list, index_of: dict[str, int]) -> dict[str, list[str]]:
    succ: dict[str, list[str]] = {}
    for node_id, index in index_of.items():
        nxt = nodes[index].get("next")
        targets = [nxt] if isinstance(nxt, str) else nxt if isinstance(nxt, list) else []
        succ[node_id] = [
            t for t in targets if isinstance(t, str) and t in index_of and t != node_id
        ]
    return succ


def _find_cycle(succ: dict[str, list[str]]) -> list[str] | None:
    """Return one cycle as a list of node ids (first repeated at the end), or None.

    Iterative depth-first search, so that long chains cannot exhaust the recursion limit.
    """
    done: set[str] = set()
    for root in succ:
        if root in done:
            continue
        path: list[str] = [root]
        on_path = {root}
        iterators = [iter(succ[root])]
        while iterators:
            nxt = next(iterators[-1], None)
            if nxt is None:
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                iterators.pop()
            elif nxt in on_path:
                return path[path.index(nxt) :] + [nxt]
            elif nxt not in done:
                path.append(nxt)
                on_path.add(nxt)
                iterators.append(iter(succ[nxt]))
    return None


def topological_order(succ: dict[str, list[str]], index_of: dict[str, int]) -> list[str]:
    """Kahn's algorithm; ties broken by position in the definition."""
    indegree = dict.fromkeys(succ, 0)
    for targets in succ.values():
        for target in targets:
            indegree[target] += 1
    ready = sorted((n for n, d in indegree.items() if d == 0), key=index_of.__getitem__)
    order = []
    while ready:
        node = ready.pop(0)
        order.append(node)
        for target in succ[node]:
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
                ready.sort(key=index_of.__getitem__)
    return order


def _reachable(entry: str, succ: dict[str, list[str]]) -> set[str]:
    seen = {entry}
    todo = [entry]
    while todo:
        for nxt in succ[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _cycle_text(cycle: list[str]) -> str:
    if len(cycle) <= 12:
        return " -> ".join(cycle)
    return (
        " -> ".join(cycle[:5]) + f" -> ... ({len(cycle) - 10} more) -> " + " -> ".join(cycle[-5:])
    )


def _graph_problems(nodes: list, index_of: dict[str, int]) -> list[Problem]:
    if not index_of:
        return []
    succ = _successors(nodes, index_of)
    problems = []
    cycle = _find_cycle(succ)
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
        reachable = _reachable(entry, succ)
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


def _config_problems(
    nodes: list, index_of: dict[str, int], registry: dict[str, Any]
) -> list[Problem]:
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
        handler = registry.get(raw.get("type")) if isinstance(raw.get("type"), str) else None
        if handler is None:
            continue
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


def validate_definition(config: Any, registry: dict[str, Any] | None = None) -> list[Problem]:
    """Every problem of a definition config; an empty list means it is valid."""
    if registry is None:
        from apps.orchestration.nodes import handlers

        registry = handlers()
    try:
        problems, nodes = _structure_problems(config)
        if not nodes:
            return problems
        node_problems, index_of = _node_problems(nodes, registry)
        problems += node_problems
        problems += _edge_problems(nodes, index_of)
        problems += _graph_problems(nodes, index_of)
        problems += _config_problems(nodes, index_of, registry)
        return problems
    except Exception as exc:  # never raise: report it as a problem
        message = one_line(f"Definition could not be validated: {exc}")
        return [Problem("invalid_definition", message)]


def build_plan(config: dict) -> Plan:
    """Build the execution plan of a definition that validate_definition() accepted."""
    spec = DefinitionSpec.from_dict(config)
    index_of = {node.id: i for i, node in enumerate(spec.nodes)}
    raw_nodes = [{"next": node.next} for node in spec.nodes]
    succ = _successors(raw_nodes, index_of)
    order = topological_order(succ, index_of)
    predecessors: dict[str, list[str]] = {node_id: [] for node_id in index_of}
    for node_id in order:
        for target in succ[node_id]:
            predecessors[target].append(node_id)
    return Plan(
        spec=spec, order=order, nodes={n.id: n for n in spec.nodes}, predecessors=predecessors
    )
