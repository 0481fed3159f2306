"""Provider registry: name -> module. Modules import their SDK only when called."""

from types import ModuleType

from . import anthropic, local, ollama, openai

PROVIDERS: dict[str, ModuleType] = {
    "local": local,
    "openai": openai,
    "anthropic": anthropic,
    "ollama": ollama,
}
