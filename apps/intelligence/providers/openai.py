"""OpenAI chat completions through the official SDK (imported on first use)."""

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
SDK = "openai"  # imported before the call's timeout is computed: importing it is slow


def default_model() -> str:
    return settings.OPENAI_MODEL


def missing_settings() -> str | None:
    return None if settings.OPENAI_API_KEY else "OPENAI_API_KEY is not set"


def answer(facts: Facts, options: "Options", deadline: float | None) -> Result:
    return llm.answer(
        facts, options, deadline, complete=complete, missing=missing_settings(), sdk=SDK
    )


def complete(
    *, system: str, user: str, model: str, temperature: float, max_tokens: int, timeout_s: float
) -> Reply:
    import openai

    client = openai.OpenAI(
        api_key=settings.OPENAI_API_KEY,
        base_url=settings.OPENAI_BASE_URL or None,
        timeout=timeout_s,
        max_retries=0,  # retries are ours, bounded by the node deadline
    )
    try:
        response = client.chat.completions.create(
            model=model,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
            temperature=temperature,
            max_completion_tokens=max_tokens,
            response_format={"type": "json_object"},
        )
    except openai.APITimeoutError:
        raise ProviderError(f"timed out after {timeout_s:.3g} s", timed_out=True) from None
    except openai.APIStatusError as exc:
        raise status_error(
            exc.status_code, exc.message, exc.response.headers.get("retry-after")
        ) from None
    except openai.APIConnectionError as exc:
        raise ProviderError(f"connection failed: {one_line(exc, 200)}", retryable=True) from None
    except (openai.OpenAIError, ValueError) as exc:  # a garbled body the SDK cannot parse
        raise ProviderError(f"bad response: {type(exc).__name__}: {one_line(exc, 200)}") from None
    finally:
        client.close()
    usage = getattr(response, "usage", None)
    try:
        text = response.choices[0].message.content
    except (AttributeError, IndexError, TypeError):
        text = None
    if not isinstance(text, str):
        raise ProviderError("answer had no message content")
    return Reply(
        text,
        getattr(usage, "prompt_tokens", None),
        getattr(usage, "completion_tokens", None),
    )
