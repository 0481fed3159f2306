"""One analysis by an LLM: the prompt, the call with bounded retries inside the node deadline,
and the parsed answer. Shared by the openai, anthropic and ollama modules.

Retries follow apps.common.retry: no wait, and no attempt, that would pass the deadline.
"""

import importlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings

from apps.common.retry import Backoff, attempt_timeout, sleep_before_retry

from ..errors import ProviderError
from ..facts import Facts
from .base import Reply, Result

if TYPE_CHECKING:
    from ..config import Options

# Waits between attempts: 0.5 s doubling; a server's Retry-After is honoured up to 10 s.
BACKOFF = Backoff(base_s=0.5, cap_s=10.0)
MIN_CALL_S = 0.05  # less time than this left before the deadline: do not start a call
FALLBACK_RESERVE_S = 1.0  # at most this much of a node's time is kept for the local fallback


def answer(
    facts: Facts,
    options: "Options",
    deadline: float | None,
    *,
    complete: Callable[..., Reply],
    missing: str | None,
    sdk: str,
) -> Result:
    """The analysis by one LLM provider (its complete(), missing settings and SDK module);
    ProviderError on any failure, with the tokens a useless answer cost."""
    from .. import prompt
    from ..schema import parse_answer

    if missing:
        raise ProviderError(f"not configured: {missing}")
    system, user = prompt.build(
        facts, max_alerts=options.max_alerts, max_chars=options.prompt_max_chars
    )
    importlib.import_module(sdk)  # seconds on first use; not part of the call's timeout
    reply = call(complete, options, system, user, llm_deadline(deadline, options.fallback))
    try:
        parsed = parse_answer(reply.text)
    except ProviderError as exc:
        exc.input_tokens, exc.output_tokens = reply.input_tokens, reply.output_tokens
        raise
    return Result(parsed.model_dump(), options.model, reply.input_tokens, reply.output_tokens)


def llm_deadline(deadline: float | None, fallback: bool) -> float | None:
    """The LLM must give up early enough for the local fallback to finish inside the node's
    deadline: a timeout then leads to the fallback, not to a failed node."""
    if deadline is None or not fallback:
        return deadline
    left = deadline - time.monotonic()
    return deadline - min(FALLBACK_RESERVE_S, max(0.25, 0.15 * left))


def call(
    complete: Callable[..., Reply],
    options: "Options",
    system: str,
    user: str,
    deadline: float | None,
) -> Reply:
    """One completion with bounded retries on 429/5xx/connection errors, within the deadline."""
    attempts = max(0, settings.INTELLIGENCE_MAX_RETRIES) + 1
    floor = MIN_CALL_S  # the least time left worth starting an attempt with
    last: ProviderError | None = None
    for attempt in range(1, attempts + 1):
        timeout = attempt_timeout(settings.INTELLIGENCE_TIMEOUT_S, deadline, floor)
        if timeout is None:
            raise last or ProviderError("the node deadline passed before the call could start")
        started = time.monotonic()
        try:
            return complete(
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
            if not exc.retryable or attempt == attempts:
                if attempt > 1:
                    raise ProviderError(f"{exc} (after {attempt} attempts)") from None
                raise
            # Another attempt needs at least as long as this one took (a client, a connection)
            # and must start after the wait.
            floor = max(MIN_CALL_S, time.monotonic() - started)
            wait_deadline = None if deadline is None else deadline - floor
            if not sleep_before_retry(BACKOFF.delay(attempt, exc.retry_after), wait_deadline):
                raise
            last = exc
    raise AssertionError("unreachable")  # pragma: no cover
