"""Node types: the name users write -> the handler class, imported on first use."""

from functools import cache
from typing import Any

from apps.common import registry

NODE_TYPES = {
    "ingest": "apps.orchestration.nodes.ingest.IngestNode",
    "context": "apps.orchestration.nodes.context.ContextNode",
    "intelligence": "apps.orchestration.nodes.intelligence.IntelligenceNode",
    "notify": "apps.orchestration.nodes.notify.NotifyNode",
    "transform": "apps.orchestration.nodes.transform.TransformNode",
}


@cache
def get_handler(node_type: str) -> Any:
    """The handler of a node type (one instance per type); UnknownName (a KeyError) if unknown."""
    return registry.load(NODE_TYPES, node_type, "node type")()
