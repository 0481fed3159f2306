"""Log records carry the trace id and run id of the run being executed (from contextvars), and
every line written is redacted (apps.common.redact), tracebacks included: an exception that
quotes a webhook URL or a bearer token does not put it in the log."""

import contextlib
import contextvars
import json
import logging
from collections.abc import Iterator
from typing import Any

trace_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("trace_id", default="-")
run_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("run_id", default="-")


@contextlib.contextmanager
def run_context(trace_id: str | None, run_id: int | str | None) -> Iterator[None]:
    trace_token = trace_id_var.set(str(trace_id or "-"))
    run_token = run_id_var.set(str(run_id or "-"))
    try:
        yield
    finally:
        trace_id_var.reset(trace_token)
        run_id_var.reset(run_token)


class RunContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.trace_id = trace_id_var.get()
        record.run_id = run_id_var.get()
        return True


class RedactingFormatter(logging.Formatter):
    def __init__(self, format: str | None = None, **kwargs: Any) -> None:  # noqa: A002
        super().__init__(fmt=format, **kwargs)  # `format`: the key dictConfig's plain form uses

    def format(self, record: logging.LogRecord) -> str:
        from apps.common.redact import redact_text

        return redact_text(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        from apps.common.redact import redact_text

        doc = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_text(record.getMessage()),
            "trace_id": getattr(record, "trace_id", "-"),
            "run_id": getattr(record, "run_id", "-"),
        }
        if record.exc_info:
            doc["exc_info"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(doc, default=str)
