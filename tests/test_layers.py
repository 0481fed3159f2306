"""Dependencies point one way: config -> entry points -> orchestration -> domain apps -> common.

Every module under apps/ and config/ is read with `ast` (imports inside functions count too: a
lazy import is still a dependency), and each import is checked against the layers.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAIN_APPS = {"alerts", "checkers", "intelligence", "notify", "hosts"}
# Configured objects every layer may use, as it uses django.conf.settings: the Celery app.
INFRASTRUCTURE = {"config.celery"}
LAYER_NAMES = {0: "config", 1: "entry point", 2: "orchestration", 3: "domain app", 4: "common"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer(module: str) -> int | None:
    """The layer of a module of this project, or None for anything else."""
    parts = module.split(".")
    if any(module == name or module.startswith(name + ".") for name in INFRASTRUCTURE):
        return None
    if parts[0] == "config":
        return 0
    if parts[0] != "apps" or len(parts) < 2:
        return None
    if parts[1] in ("api", "console") or "management" in parts or parts[-1] == "admin":
        return 1
    if parts[1] == "orchestration":
        return 2
    if parts[1] in DOMAIN_APPS:
        return 3
    if parts[1] == "common":
        return 4
    return None


def imports_of(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, imported module) for every import in a module's source, relative ones resolved."""
    found = []
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # `from apps.orchestration import routing` imports apps.orchestration.routing
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return found


def violation(importer: str, imported: str) -> str:
    """Why `importer` may not import `imported`, or "" when it may."""
    mine, theirs = layer(importer), layer(imported)
    if mine is None or theirs is None:
        return ""
    same_app = importer.split(".")[:2] == imported.split(".")[:2]
    if mine == 1 and theirs == 1 and not same_app:
        if imported.startswith("apps.api.") and "management" in importer.split("."):
            return "a management command imports the HTTP API (share a service instead)"
        return ""
    if mine == 0 or same_app or theirs > mine or (mine == theirs == 3):
        if importer.startswith("apps.orchestration.nodes.") and imported == (
            "apps.orchestration.engine"
        ):
            return "a node type imports the engine that runs it (an import cycle)"
        return ""
    return f"a {LAYER_NAMES[mine]} imports a {LAYER_NAMES[theirs]}"


def project_modules() -> list[Path]:
    paths = [*ROOT.joinpath("apps").rglob("*.py"), *ROOT.joinpath("config").rglob("*.py")]
    return sorted(p for p in paths if "migrations" not in p.parts)


def test_every_import_follows_the_layers():
    problems = []
    for path in project_modules():
        module = module_name(path)
        for line, imported in imports_of(path.read_text(), module, path.name == "__init__.py"):
            why = violation(module, imported)
            if why:
                problems.append(f"{path.relative_to(ROOT)}:{line}: {imported}: {why}")
    assert problems == []


@pytest.mark.parametrize(
    ("importer", "source"),
    [
        ("apps.alerts.routing", "from apps.orchestration.models import PipelineDefinition"),
        ("apps.alerts.views", "def f():\n    from apps.orchestration.services import create_run"),
        ("apps.common.metrics", "def f():\n    from apps.orchestration.models import PipelineRun"),
        ("apps.orchestration.nodes.transform", "from apps.orchestration.engine import Engine"),
        ("apps.orchestration.nodes.transform", "from ..engine import storable"),
        (
            "apps.checkers.management.commands.check_and_alert",
            "from apps.api.webhooks import receive",
        ),
        ("apps.notify.services", "from apps.api import errors"),
        ("apps.common.redact", "import apps.alerts.models"),
        ("apps.orchestration.engine", "from apps.api.errors import ApiError"),
        ("apps.intelligence.services", "from apps.orchestration import routing"),
    ],
)
def test_the_rule_fails_on_imports_against_the_layers(importer, source):
    is_package = False
    found = [violation(importer, imported) for _, imported in imports_of(source, importer, False)]
    assert any(found), (importer, source, is_package)


@pytest.mark.parametrize(
    ("importer", "source"),
    [
        ("apps.api.webhooks", "from apps.orchestration.triggers import ingest_and_start"),
        ("apps.orchestration.triggers", "from apps.alerts.services import store"),
        ("apps.notify.services", "from apps.alerts.models import Incident"),
        ("apps.alerts.management.commands.route_test", "from apps.orchestration import routing"),
        ("apps.orchestration.admin", "from apps.notify.models import Delivery"),
        ("apps.alerts.services", "from apps.common.text import one_line"),
        ("config.urls", "from apps.api.api import api_urls"),
    ],
)
def test_the_rule_allows_imports_down_the_layers(importer, source):
    assert [violation(importer, imported) for _, imported in imports_of(source, importer, False)]
    assert not any(
        violation(importer, imported) for _, imported in imports_of(source, importer, False)
    )
