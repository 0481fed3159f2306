"""The fields of the definition format: what each accepts (Rule) and the JSON Schema built from
the same rules, so validation and `schema()` cannot disagree.

Plain code, so that validating a definition costs no heavy import (the CLI's `--dry-run`
start-up time depends on it).
"""

import math
import re
from dataclasses import dataclass
from typing import Any

from apps.common.text import json_shown

NODE_ID_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")
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
            return f"must be {self._expected()}, got {json_shown(value, 20)}"
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
            "version": {
                "enum": ["1", "1.0", 1],
                "default": "1",
                "description": 'Format version: 1 (also written "1", 1.0 or "1.0").',
            },
            "description": {"type": "string", "default": ""},
            "defaults": {"$ref": "#/$defs/Defaults"},
            "nodes": {"type": "array", "items": {"$ref": "#/$defs/NodeSpec"}, "minItems": 1},
        },
        ["nodes"],
    )
    return {"$schema": SCHEMA_URI, **top, "$defs": {"Defaults": defaults, "NodeSpec": node}}
