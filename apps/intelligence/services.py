"""Analyse an incident with the configured provider, fall back to the local rules, record it.

Importing this module is cheap (no SDKs, no pydantic): the CLI loads it at startup.
"""

import hashlib
import importlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from . import facts as facts_module
from .errors import AnalysisError, ProviderError
from .providers import PROVIDERS, load

__all__ = ["AnalysisError", "analyze", "validate_intelligence_config"]

logger = logging.getLogger("apps.intelligence")

BACKOFF_S = 0.5  # first wait between attempts; doubles per attempt
MAX_WAIT_S = 10.0  # a server's Retry-After beyond this is not honoured
MIN_CALL_S = 0.05  # less time than this left before the deadline: do not start a call
FALLBACK_RESERVE_S = 1.0  # at most this much of a node's time is kept for the local fallback
DEFAULT_TEMPERATURE = 0.2
DEFAULT_MAX_TOKENS = 1024
CACHE_PREFIX = "intelligence:v1:"

# key -> (kind, check(value) -> problem or None)
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


def _call_with_retries(
    module: Any, options: Options, system: str, user: str, deadline: float | None
):
    """One completion with bounded retries on 429/5xx/connection errors, within the deadline."""
    attempts = max(0, settings.INTELLIGENCE_MAX_RETRIES) + 1
    if getattr(module, "SDK", None):
        importlib.import_module(module.SDK)  # seconds on first use; not part of the call's timeout
    for attempt in range(attempts):
        timeout = settings.INTELLIGENCE_TIMEOUT_S
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining < MIN_CALL_S:
                raise ProviderError("the node deadline passed before the call could start")
            timeout = min(timeout, remaining)
        try:
            return module.complete(
                system=system,
                user=user,
                model=options.model,
                temperature=options.temperature,
                max_tokens=options.max_tokens,
                timeout_s=timeout,
            )
        except ProviderError as exc:
            if exc.timed_out and timeout < settings.INTELLIGENCE_TIMEOUT_S:
                raise ProviderError(f"{exc} (the node deadline)") from None
            if not exc.retryable or attempt == attempts - 1:
                if attempt:
                    raise ProviderError(f"{exc} (after {attempt + 1} attempts)") from None
                raise
            wait = exc.retry_after if exc.retry_after is not None else BACKOFF_S * 2**attempt
            wait = min(wait, MAX_WAIT_S)
            if deadline is not None and time.monotonic() + wait + MIN_CALL_S >= deadline:
                raise
            time.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def _ask_llm(module: Any, options: Options, facts: facts_module.Facts, deadline: float | None):
    """(answer dict, reply) from an LLM provider; ProviderError on any failure."""
    from . import prompt
    from .schema import parse_answer

    missing = module.missing_settings()
    if missing:
        raise ProviderError(f"not configured: {missing}")
    system, user = prompt.build(
        facts, max_alerts=options.max_alerts, max_chars=options.prompt_max_chars
    )
    reply = _call_with_retries(module, options, system, user, deadline)
    try:
        answer = parse_answer(reply.text)
    except ProviderError as exc:
        exc.input_tokens, exc.output_tokens = reply.input_tokens, reply.output_tokens
        raise
    return answer.model_dump(), reply


def cache_key(options: Options, facts: facts_module.Facts) -> str:
    """Provider, model, incident identity, alert states and check statuses (not their numbers)."""
    incident = facts.incident or {}
    alert_states = sorted(
        [a["source"], a["fingerprint"] or a["name"], a["status"], a["severity"]]
        for a in facts.alerts
    )
    raw = json.dumps(
        [
            options.provider,
            options.model,
            options.temperature,
            incident.get("group_key") or incident.get("id"),
            incident.get("status"),
            facts.host,
            facts.alerts_total,
            alert_states,
            sorted([name, c["status"]] for name, c in facts.checks.items()),
        ],
        default=str,
    )
    return hashlib.sha256(raw.encode()).hexdigest()


def _output(
    answer: dict[str, Any],
    *,
    provider: str,
    requested: str,
    model: str,
    fallback_reason: str | None,
    tokens: tuple[Any, Any],
    started: float,
) -> dict[str, Any]:
    return {
        **answer,
        "provider": provider,
        "requested_provider": requested,
        "model": model,
        "fallback_used": fallback_reason is not None,
        "fallback_reason": fallback_reason,
        "tokens": {"input": tokens[0], "output": tokens[1]},
        "duration_ms": round((time.monotonic() - started) * 1000, 2),
    }


def _record(
    output: dict[str, Any],
    *,
    status: str,
    facts: facts_module.Facts,
    error: str = "",
    tokens: tuple[Any, Any] = (None, None),
    key: str = "",
    trace_id: str = "",
    pipeline_run: Any = None,
) -> None:
    from apps.common.redact import redact, redact_text

    from .models import AnalysisRun

    run_id = pipeline_run if isinstance(pipeline_run, int) else getattr(pipeline_run, "pk", None)
    AnalysisRun.objects.create(
        provider=output["provider"][:30],
        requested_provider=output["requested_provider"][:30],
        model=output["model"][:100],
        status=status,
        input_tokens=tokens[0],
        output_tokens=tokens[1],
        duration_ms=output["duration_ms"],
        error=redact_text(error)[:2000],
        trace_id=(trace_id or "")[:64],
        cache_key=key,
        output=redact(output),
        incident_id=facts.incident["id"] if facts.incident else None,
        pipeline_run_id=run_id,
    )


def _llm_deadline(deadline: float | None, options: Options) -> float | None:
    """The LLM must give up early enough for the local fallback to finish inside the node's
    deadline: a timeout then leads to the fallback, not to a failed node."""
    if deadline is None or not options.fallback:
        return deadline
    remaining = deadline - time.monotonic()
    return deadline - min(FALLBACK_RESERVE_S, max(0.25, 0.15 * remaining))


def _local_answer(facts: facts_module.Facts, options: Options, deadline: float | None) -> dict:
    from .schema import Answer, fit_limits

    local = load("local")

    answer = local.analyze(facts, inspect=options.inspect, deadline=deadline)
    return Answer.model_validate(fit_limits(answer)).model_dump()


def analyze(
    *,
    incident: Any = None,
    payload: Any = None,
    context: Any = None,
    alerts: Any = None,
    config: dict | None = None,
    trace_id: str = "",
    pipeline_run: Any = None,
    deadline: float | None = None,
) -> dict[str, Any]:
    """The analysis output dict; writes one AnalysisRun.

    Raises ValueError for an invalid config and AnalysisError when the requested provider
    failed and the config says `"fallback": false`.
    """
    started = time.monotonic()
    options = Options.from_config(config)
    facts = facts_module.gather(incident=incident, alerts=alerts, payload=payload, context=context)
    requested = options.provider
    record = {"facts": facts, "trace_id": trace_id, "pipeline_run": pipeline_run}

    if requested == "local":
        output = _output(
            _local_answer(facts, options, deadline),
            provider="local",
            requested="local",
            model=load("local").MODEL,
            fallback_reason=None,
            tokens=(None, None),
            started=started,
        )
        _record(output, status="succeeded", **record)
        return output

    module = load(requested) if requested in PROVIDERS else None
    key = cache_key(options, facts)
    if module is not None and options.cache:
        from django.core.cache import cache

        cached = cache.get(CACHE_PREFIX + key)
        if isinstance(cached, dict):
            output = {
                **cached,
                "tokens": {"input": 0, "output": 0},
                "duration_ms": round((time.monotonic() - started) * 1000, 2),
            }
            _record(output, status="cached", key=key, tokens=(0, 0), **record)
            return output

    try:
        if module is None:
            raise ProviderError("unknown provider (check INTELLIGENCE_PROVIDER)")
        answer, reply = _ask_llm(module, options, facts, _llm_deadline(deadline, options))
    except ProviderError as exc:
        reason = f"{requested}: {exc}"
        spent = (exc.input_tokens, exc.output_tokens)
        if not options.fallback:
            failed = _output(
                {},
                provider=requested,
                requested=requested,
                model=options.model,
                fallback_reason=None,
                tokens=spent,
                started=started,
            )
            _record(failed, status="failed", error=reason, tokens=spent, key=key, **record)
            raise AnalysisError(reason) from None
        logger.warning("intelligence provider failed, using local rules: %s", reason)
        output = _output(
            _local_answer(facts, options, deadline),
            provider="local",
            requested=requested,
            model=load("local").MODEL,
            fallback_reason=reason,
            tokens=(None, None),
            started=started,
        )
        _record(output, status="fallback", error=reason, tokens=spent, key=key, **record)
        return output

    tokens = (reply.input_tokens, reply.output_tokens)
    output = _output(
        answer,
        provider=requested,
        requested=requested,
        model=options.model,
        fallback_reason=None,
        tokens=tokens,
        started=started,
    )
    if options.cache:
        from django.core.cache import cache

        cache.set(CACHE_PREFIX + key, output, settings.INTELLIGENCE_CACHE_TTL_S)
    _record(output, status="succeeded", tokens=tokens, key=key, **record)
    return output
