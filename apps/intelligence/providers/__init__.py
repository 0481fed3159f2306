"""The analysis providers: a name (what configs write) -> the dotted path of its module.

Loaded on first use through apps.common.registry, so that importing apps.intelligence.services
(on the CLI's startup path) stays cheap; each LLM module in turn imports its SDK only inside
complete(). "local" is the deterministic analyser beside the rules, not an LLM.

Every provider module offers:
  CACHED           whether its answers are kept in the analysis cache
  default_model()  the model when the config names none
  answer(facts, options, deadline) -> base.Result, or ProviderError on any failure
"""

from types import ModuleType

from apps.common import registry

PROVIDERS: dict[str, str] = {
    "local": "apps.intelligence.analyser",
    "openai": "apps.intelligence.providers.openai",
    "anthropic": "apps.intelligence.providers.anthropic",
    "ollama": "apps.intelligence.providers.ollama",
}


def load(name: str) -> ModuleType:
    """The provider module of a registered name; registry.UnknownName (a KeyError) otherwise."""
    return registry.load(PROVIDERS, name, "intelligence provider")
