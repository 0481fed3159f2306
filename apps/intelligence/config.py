"""The `intelligence` node config: its validation, and the options an analysis runs with."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from .providers import PROVIDERS, load

DEFAULT_TEMPERATURE = 0.2
DEFAULT_MAX_TOKENS = 1024

# key -> (lowest, highest) allowed whole number
_INT_RANGES = {
    "max_alerts": (1, 500),
    "prompt_max_chars": (500, 200_000),
    "max_tokens": (16, 16_384),
}
KNOWN_KEYS = (
    "provider",
    "model",
    "temperature",
    "fallback",
    "max_alerts",
    "prompt_max_chars",
    "max_tokens",
    "cache",
    "inspect",
)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _key_problem(key: str, value: Any) -> str | None:
    if key == "provider":
        if not isinstance(value, str) or value not in PROVIDERS:
            return f"unknown intelligence provider {value!r} (known: {', '.join(PROVIDERS)})"
    elif key == "model":
        if not isinstance(value, str) or not value.strip() or len(value) > 100:
            return (
                "intelligence 'model' must be a non-empty string of at most 100 characters, "
                f"got {value!r}"
            )
    elif key == "temperature":
        if not _is_number(value) or not 0 <= value <= 2:
            return f"intelligence 'temperature' must be a number from 0 to 2, got {value!r}"
    elif key in ("fallback", "cache", "inspect"):
        if not isinstance(value, bool):
            return f"intelligence '{key}' must be true or false, got {value!r}"
    elif key in _INT_RANGES:
        low, high = _INT_RANGES[key]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            return (
                f"intelligence '{key}' must be a whole number from {low} to {high}, got {value!r}"
            )
    return None


def validate_intelligence_config(config: dict) -> list[str]:
    """Problems of an `intelligence` node config, one sentence each, without the node prefix."""
    if not isinstance(config, dict):
        return [f"intelligence config must be an object, got {type(config).__name__}"]
    problems = []
    for key, value in config.items():
        if key not in KNOWN_KEYS:
            problems.append(
                f"unknown intelligence config key {key!r} (known: {', '.join(KNOWN_KEYS)})"
            )
            continue
        problem = _key_problem(key, value)
        if problem:
            problems.append(problem)
    return problems


@dataclass
class Options:
    provider: str
    model: str
    temperature: float
    fallback: bool
    max_alerts: int
    prompt_max_chars: int
    max_tokens: int
    cache: bool
    inspect: bool

    @classmethod
    def from_config(cls, config: dict | None) -> "Options":
        config = config or {}
        problems = validate_intelligence_config(config)
        if problems:
            raise ValueError(f"invalid intelligence config: {'; '.join(problems)}")
        provider = config.get("provider") or settings.INTELLIGENCE_DEFAULT_PROVIDER
        # An unknown name can only come from the setting (the config was validated above);
        # services then falls back with a reason that names the setting.
        module = load(provider) if provider in PROVIDERS else None
        return cls(
            provider=provider,
            model=config.get("model") or (module.default_model() if module else ""),
            temperature=float(config.get("temperature", DEFAULT_TEMPERATURE)),
            fallback=config.get("fallback", True),
            max_alerts=config.get("max_alerts", settings.INTELLIGENCE_MAX_ALERTS_IN_PROMPT),
            prompt_max_chars=config.get("prompt_max_chars", settings.INTELLIGENCE_PROMPT_MAX_CHARS),
            max_tokens=config.get("max_tokens", DEFAULT_MAX_TOKENS),
            cache=config.get("cache", True),
            inspect=config.get("inspect", True),
        )
