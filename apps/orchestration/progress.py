"""Progress of a run as it happens, for whoever listens in this context (run_pipeline prints it
on a terminal). The engine reports; a listener's failure never touches the run."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

logger = logging.getLogger(__name__)


class Listener(Protocol):
    def started(self, run: Any) -> None: ...

    def finished(self, node: Any) -> None: ...


_listener: ContextVar[Listener | None] = ContextVar("run_progress_listener", default=None)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def _tell(method: str, value: Any) -> None:
    listener = _listener.get()
    if listener is None:
        return
    try:
        getattr(listener, method)(value)
    except Exception:  # progress is a courtesy: it never fails a run
        logger.debug("progress listener failed", exc_info=True)


def run_started(run: Any) -> None:
    _tell("started", run)


def node_finished(node: Any) -> None:
    _tell("finished", node)
