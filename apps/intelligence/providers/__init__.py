"""Provider registry: name -> module path, imported on first use.

Lazy so that importing apps.intelligence.services (on the CLI's startup path) stays cheap;
each LLM module in turn imports its SDK only inside complete().
"""

import importlib
from types import ModuleType

PROVIDERS: dict[str, str] = {
    "local": "apps.intelligence.providers.local",
    "openai": "apps.intelligence.providers.openai",
    "anthropic": "apps.intelligence.providers.anthropic",
    "ollama": "apps.intelligence.providers.ollama",
}


def load(name: str) -> ModuleType:
    """The provider module for a registered name (KeyError for an unknown one)."""
    return importlib.import_module(PROVIDERS[name])
