"""The one registry shape: a plain dict from a name to a dotted path, imported on first use.

Vendors, notify drivers, checks, analysis providers and node types each keep such a dict beside
their modules; `load` turns a name into the module (or the class) it names. A path is a module
("apps.alerts.vendors.grafana") or an attribute of one ("apps.checkers.checks.cpu.CpuCheck").
"""

from collections.abc import Mapping
from functools import cache
from importlib import import_module
from typing import Any


class UnknownName(KeyError):
    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        super().__init__(name)
        self.message = f"unknown {kind} {name!r} (known: {', '.join(known)})"

    def __str__(self) -> str:
        return self.message


def load(registry: Mapping[str, str], name: str, kind: str = "name") -> Any:
    """What `name` stands for in `registry`; UnknownName (a KeyError) for a name not in it."""
    try:
        path = registry[name]
    except (KeyError, TypeError):
        raise UnknownName(kind, str(name), list(registry)) from None
    return import_path(path)


@cache
def import_path(path: str) -> Any:
    try:
        return import_module(path)
    except ModuleNotFoundError as exc:
        if exc.name != path:
            raise
    module_name, attribute = path.rsplit(".", 1)
    return getattr(import_module(module_name), attribute)


def choices(registry: Mapping[str, str]) -> list[tuple[str, str]]:
    """Model field choices for the names of a registry, in registry order."""
    return [(name, name) for name in registry]
