"""Analyse an incident with the configured provider, fall back to the local rules, record it.

Importing this module is cheap (no SDKs, no pydantic): the CLI loads it at startup.
"""

import hashlib
import json
import logging
import time
from typing import Any

from django.conf import settings

from apps.common.registry import UnknownName

from . import facts as facts_module
from .config import Options, validate_intelligence_config
from .errors import AnalysisError, ProviderError
from .providers import load

__all__ = ["AnalysisError", "analyze", "validate_intelligence_config"]

logger = logging.getLogger("apps.intelligence")

CACHE_PREFIX = "intelligence:v1:"
FALLBACK = "local"  # the deterministic analyser: no network, no settings, always answers


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
    try:
        provider = load(requested)
    except UnknownName:
        provider = None  # a bad INTELLIGENCE_PROVIDER: the config itself was validated
    cached = provider is not None and provider.CACHED and options.cache
    # Runs of a provider whose answers are never cached carry no key.
    key = "" if provider is not None and not provider.CACHED else cache_key(options, facts)
    if cached:
        from django.core.cache import cache

        hit = cache.get(CACHE_PREFIX + key)
        if isinstance(hit, dict):
            output = {
                **hit,
                "tokens": {"input": 0, "output": 0},
                "duration_ms": round((time.monotonic() - started) * 1000, 2),
            }
            _record(output, status="cached", key=key, tokens=(0, 0), **record)
            return output

    try:
        if provider is None:
            raise ProviderError("unknown provider (check INTELLIGENCE_PROVIDER)")
        result = provider.answer(facts, options, deadline)
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
        result = load(FALLBACK).answer(facts, options, deadline)
        output = _output(
            result.answer,
            provider=FALLBACK,
            requested=requested,
            model=result.model,
            fallback_reason=reason,
            tokens=(None, None),
            started=started,
        )
        _record(output, status="fallback", error=reason, tokens=spent, key=key, **record)
        return output

    tokens = (result.input_tokens, result.output_tokens)
    output = _output(
        result.answer,
        provider=requested,
        requested=requested,
        model=result.model,
        fallback_reason=None,
        tokens=tokens,
        started=started,
    )
    if cached:
        from django.core.cache import cache

        cache.set(CACHE_PREFIX + key, output, settings.INTELLIGENCE_CACHE_TTL_S)
    _record(output, status="succeeded", tokens=tokens, key=key, **record)
    return output
