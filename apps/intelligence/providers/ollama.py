"""Ollama /api/chat through the official SDK (imported on first use)."""

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
SDK = "ollama"  # imported before the call's timeout is computed: importing it is slow


def default_model() -> str:
    return settings.OLLAMA_MODEL


def missing_settings() -> str | None:
    # The SDK would silently default to localhost:11434; an explicit host says Ollama is wanted.
    return None if settings.OLLAMA_HOST else "OLLAMA_HOST is not set"


def answer(facts: Facts, options: "Options", deadline: float | None) -> Result:
    return llm.answer(
        facts, options, deadline, complete=complete, missing=missing_settings(), sdk=SDK
    )


def complete(
    *, system: str, user: str, model: str, temperature: float, max_tokens: int, timeout_s: float
) -> Reply:
    import httpx
    import ollama

    client = ollama.Client(host=settings.OLLAMA_HOST, timeout=timeout_s)
    try:
        response = client.chat(
            model=model,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
            format="json",
            options={"temperature": temperature, "num_predict": max_tokens},
            stream=False,
        )
    except ollama.ResponseError as exc:
        raise status_error(exc.status_code, exc.error, None) from None
    except httpx.TimeoutException:
        raise ProviderError(f"timed out after {timeout_s:.3g} s", timed_out=True) from None
    except (ConnectionError, httpx.TransportError) as exc:
        raise ProviderError(f"connection failed: {one_line(exc, 200)}", retryable=True) from None
    except (ollama.RequestError, ValueError) as exc:  # a garbled body fails the SDK's parsing
        raise ProviderError(f"bad response: {type(exc).__name__}: {one_line(exc, 200)}") from None
    finally:
        client.close()
    message = getattr(response, "message", None)
    text = getattr(message, "content", None)
    if not isinstance(text, str) or not text:
        raise ProviderError("answer had no message content")
    return Reply(
        text,
        getattr(response, "prompt_eval_count", None),
        getattr(response, "eval_count", None),
    )
