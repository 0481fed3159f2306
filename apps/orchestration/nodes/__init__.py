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


NODE_TYPES_EXTRA: dict[str, type] = {}  # handler classes registered in code (plugins, tests)


@cache
def get_handler(node_type: str) -> Any:
    if node_type in NODE_TYPES_EXTRA:
        return NODE_TYPES_EXTRA[node_type]()
    module_name, class_name = NODE_TYPES[node_type].rsplit(".", 1)
    return getattr(import_module(module_name), class_name)()


def register(node_type: str, handler_class: type) -> None:
    NODE_TYPES_EXTRA[node_type] = handler_class
    get_handler.cache_clear()


def unregister(node_type: str) -> None:
    NODE_TYPES_EXTRA.pop(node_type, None)
    get_handler.cache_clear()


def known_types() -> list[str]:
    return sorted({*NODE_TYPES, *NODE_TYPES_EXTRA})


class _LazyRegistry(dict):
    def __missing__(self, key: str) -> Any:
        if key not in self:
            raise KeyError(key)
        return get_handler(key)

    def __contains__(self, key: object) -> bool:
        return key in NODE_TYPES or key in NODE_TYPES_EXTRA

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return self[key] if key in self else default  # noqa: SIM401 - this is get()


def handlers() -> dict[str, Any]:
    """A mapping of node type -> handler instance; handlers are created on first access."""
    return _LazyRegistry()
