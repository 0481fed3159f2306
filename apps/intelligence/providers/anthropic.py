"""Anthropic messages through the official SDK (imported on first use)."""

from typing import TYPE_CHECKING

from django.conf import settings

from apps.common.text import one_line

from ..errors import ProviderError
from ..facts import Facts
from . import llm
from .base import Reply, Result, status_error

if TYPE_CHECKING:
    from ..config import Options

CACHED = True  # an answer costs money and seconds
SDK = "anthropic"  # imported before the call's timeout is computed: importing it is slow


def default_model() -> str:
    return settings.ANTHROPIC_MODEL


def missing_settings() -> str | None:
    return None if settings.ANTHROPIC_API_KEY else "ANTHROPIC_API_KEY is not set"


def answer(facts: Facts, options: "Options", deadline: float | None) -> Result:
    return llm.answer(
        facts, options, deadline, complete=complete, missing=missing_settings(), sdk=SDK
    )


def complete(
    *, system: str, user: str, model: str, temperature: float, max_tokens: int, timeout_s: float
) -> Reply:
    import anthropic

    # temperature is not sent: this SDK's messages.create no longer takes it.
    del temperature

    client = anthropic.Anthropic(
        api_key=settings.ANTHROPIC_API_KEY,
        base_url=settings.ANTHROPIC_BASE_URL or None,
        timeout=timeout_s,
        max_retries=0,  # retries are ours, bounded by the node deadline
    )
    try:
        response = client.messages.create(
            model=model,
            max_tokens=max_tokens,
            system=system,
            messages=[{"role": "user", "content": user}],
        )
    except anthropic.APITimeoutError:
        raise ProviderError(f"timed out after {timeout_s:.3g} s", timed_out=True) from None
    except anthropic.APIStatusError as exc:
        raise status_error(
            exc.status_code, exc.message, exc.response.headers.get("retry-after")
        ) from None
    except anthropic.APIConnectionError as exc:
        raise ProviderError(f"connection failed: {one_line(exc, 200)}", retryable=True) from None
    except (anthropic.AnthropicError, ValueError) as exc:  # a garbled body the SDK cannot parse
        raise ProviderError(f"bad response: {type(exc).__name__}: {one_line(exc, 200)}") from None
    finally:
        client.close()
    usage = getattr(response, "usage", None)
    blocks = getattr(response, "content", None) or []
    text = "".join(
        block.text for block in blocks if getattr(block, "type", "") == "text" and block.text
    )
    if not text:
        raise ProviderError("answer had no text content")
    return Reply(text, getattr(usage, "input_tokens", None), getattr(usage, "output_tokens", None))
