"""What an LLM provider module returns; shared by openai, anthropic and ollama."""

from dataclasses import dataclass


@dataclass
class Reply:
    text: str
    input_tokens: int | None = None
    output_tokens: int | None = None


def one_line(text: object, limit: int = 200) -> str:
    flat = " ".join(str(text).split())
    return flat[:limit] + ("…" if len(flat) > limit else "")


def status_error(status: int, detail: object, retry_after: str | None):
    """ProviderError for an HTTP error answer: 429 and 5xx are worth retrying."""
    from ..errors import ProviderError

    seconds = None
    if retry_after:
        try:
            seconds = max(0.0, float(retry_after))
        except ValueError:
            seconds = None
    reason = "rate limited" if status == 429 else one_line(detail, 120)
    return ProviderError(
        f"HTTP {status} {reason}".rstrip(),
        retryable=status == 429 or status >= 500,
        retry_after=seconds,
    )
