"""What providers return: a Result from each, and the Reply of one LLM call."""

from dataclasses import dataclass
from typing import Any

from apps.common.text import one_line


@dataclass
class Result:
    """One provider's analysis: the answer fields (summary .. evidence) and what it cost."""

    answer: dict[str, Any]
    model: str
    input_tokens: int | None = None
    output_tokens: int | None = None


@dataclass
class Reply:
    text: str
    input_tokens: int | None = None
    output_tokens: int | None = None


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
