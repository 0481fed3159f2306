"""Errors of the intelligence app (kept free of heavy imports: the CLI loads this early)."""


class AnalysisError(Exception):
    """The requested provider failed and the node config says `"fallback": false`."""


class ProviderError(Exception):
    """One LLM call failed; the message is one line without the provider name.

    `retryable` marks failures worth another attempt (429, 5xx, connection errors);
    `retry_after` is the server's Retry-After in seconds when it sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        timed_out: bool = False,
        retry_after: float | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.timed_out = timed_out
        self.retry_after = retry_after
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
