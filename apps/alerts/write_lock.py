"""The SQLite write lock: writers of all processes queue for their turn in the kernel."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator

from django.db import connection


@contextlib.contextmanager
def write_turn() -> Iterator[None]:
    """On a SQLite file, make writers of all processes queue for their turn in the kernel.

    SQLite's busy handler polls with growing sleeps, so under load one gunicorn worker can
    keep missing the lock for seconds; a blocking flock on a file beside the database wakes
    the next writer as soon as the lock is free. Take it before BEGIN (outside atomic);
    nested calls inside a transaction do nothing. Other databases queue on row locks.
    """
    name = str(connection.settings_dict.get("NAME") or "")
    if connection.vendor != "sqlite" or connection.in_atomic_block or not is_file_db(name):
        yield
        return
    with open(f"{name}.write-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def is_file_db(name: str) -> bool:
    return bool(name) and ":memory:" not in name and "mode=memory" not in name
