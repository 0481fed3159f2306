"""A definition as data: its nodes (NodeSpec), the whole (DefinitionSpec), a validation Problem,
and the Plan the engine runs, built from a definition that validation accepted."""

from dataclasses import dataclass, field
from typing import Any

from . import dag
from .rules import NODE_RULES


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


def build_plan(config: dict) -> Plan:
    """Build the execution plan of a definition that validate_definition() accepted."""
    spec = DefinitionSpec.from_dict(config)
    index_of = {node.id: i for i, node in enumerate(spec.nodes)}
    raw_nodes = [{"next": node.next} for node in spec.nodes]
    succ = dag.successors(raw_nodes, index_of)
    order = dag.order(succ, index_of)
    predecessors: dict[str, list[str]] = {node_id: [] for node_id in index_of}
    for node_id in order:
        for target in succ[node_id]:
            predecessors[target].append(node_id)
    return Plan(
        spec=spec, order=order, nodes={n.id: n for n in spec.nodes}, predecessors=predecessors
    )
