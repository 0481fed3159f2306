"""Node types: the name users write -> the handler class, imported on first use."""

from functools import cache
from importlib import import_module
from typing import Any

NODE_TYPES = {
    "ingest": "apps.orchestration.nodes.ingest.IngestNode",
    "context": "apps.orchestration.nodes.context.ContextNode",
    "intelligence": "apps.orchestration.nodes.intelligence.IntelligenceNode",
    "notify": "apps.orchestration.nodes.notify.NotifyNode",
    "transform": "apps.orchestration.nodes.transform.TransformNode",
}


@cache
def get_handler(node_type: str) -> Any:
    module_name, class_name = NODE_TYPES[node_type].rsplit(".", 1)
    return getattr(import_module(module_name), class_name)()


class _LazyRegistry(dict):
    def __missing__(self, key: str) -> Any:
        if key not in NODE_TYPES:
            raise KeyError(key)
        return get_handler(key)

    def __contains__(self, key: object) -> bool:
        return key in NODE_TYPES

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return self[key] if key in NODE_TYPES else default


def handlers() -> dict[str, Any]:
    """A mapping of node type -> handler instance; handlers are created on first access."""
    return _LazyRegistry()
