"""Log records carry the trace id and run id of the run being executed (from contextvars)."""

import contextlib
import contextvars
import json
import logging
from collections.abc import Iterator

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


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "trace_id": getattr(record, "trace_id", "-"),
            "run_id": getattr(record, "run_id", "-"),
        }
        if record.exc_info:
            doc["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)
