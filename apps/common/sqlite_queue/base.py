"""SQLite whose writers queue in the kernel: the database backend of a single machine.

SQLite lets one writer at a time in and makes the others poll: its busy handler sleeps 1, 2, 5,
10 … 100 ms between tries. Under a webhook storm gunicorn's workers handed the write lock
straight to each other and `run_worker` kept missing it: runs waited for the storm to end. Here
every write transaction of every process (BEGIN IMMEDIATE, and a write statement outside a
transaction) first takes a blocking `flock` on a file beside the database, so writers wait in
the kernel's queue and the next one is woken the moment the lock is free. Reads never wait (WAL).

A released flock is not handed to a waiter: the waiters are woken and race for it, and a
writer that releases and asks again at once (a busy web worker) wins that race before the
woken one runs: run_worker still starved (seen: 30 writes in 2-19 s instead of 0.2). So a
writer first takes a second lock, the queue (`<name>.write-queue`), then the turn, and gives
the queue back as soon as it has the turn: the writer next in line holds the queue while it
waits, so the one that just wrote cannot take the turn again before it, and every other
writer waits, asleep, on the queue: when it is given back they are woken together.

Settings choose it for a file database (config/settings.py); it is Django's SQLite backend
otherwise. Two lock files per database: `<name>.write-lock` and `<name>.write-queue`.
"""

from __future__ import annotations

import fcntl
import os
from typing import Any

from django.db.backends.sqlite3 import base

WRITE_WORDS = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def is_file_db(name: str) -> bool:
    return bool(name) and ":memory:" not in name and "mode=memory" not in name


class DatabaseWrapper(base.DatabaseWrapper):
    _lock_file: Any = None  # opened once per connection, flocked per write turn
    _queue_file: Any = None  # flocked from asking for the turn until having it
    _lock_pid = 0  # the process that opened them: a forked child must not share its locks
    _holding = False

    def queued(self) -> bool:
        return is_file_db(str(self.settings_dict.get("NAME") or ""))

    def take_turn(self) -> bool:
        """Wait for the write turn; False when this connection holds it already (or has no
        file to queue on)."""
        self._forget_inherited()
        if self._holding or not self.queued():
            return False
        if self._lock_file is None:
            name = self.settings_dict["NAME"]
            self._queue_file = open(f"{name}.write-queue", "a")  # noqa: SIM115
            self._lock_file = open(f"{name}.write-lock", "a")  # noqa: SIM115
            self._lock_pid = os.getpid()
        fcntl.flock(self._queue_file, fcntl.LOCK_EX)
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        finally:
            fcntl.flock(self._queue_file, fcntl.LOCK_UN)
        self._holding = True
        return True

    def give_turn(self) -> None:
        self._forget_inherited()
        if self._holding:
            self._holding = False
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    def _forget_inherited(self) -> None:
        """After a fork the lock file is the parent's open file: flock on it would be shared
        with the parent. The child leaves it alone and opens its own."""
        if self._lock_file is not None and self._lock_pid != os.getpid():
            self._lock_file, self._queue_file, self._holding = None, None, False

    def _start_transaction_under_autocommit(self) -> None:
        taken = self.take_turn()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            if taken:
                self.give_turn()
            raise

    def _commit(self) -> Any:
        try:
            return super()._commit()
        finally:
            self.give_turn()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()
        finally:
            self.give_turn()

    def _close(self) -> None:
        try:
            super()._close()
        finally:
            self.give_turn()
            if self._lock_file is not None:
                self._lock_file.close()
                self._queue_file.close()
                self._lock_file = self._queue_file = None

    def create_cursor(self, name: Any = None) -> Any:
        cursor = self.connection.cursor(factory=QueuedCursor)
        cursor.wrapper = self
        return cursor


# Django's SQLite cursor rewrites "%s" to "?" with a regex on every statement; the same few
# hundred statements come back all the time, so their rewrites are kept (short ones only).
_QMARK_QUERIES: dict[str, str] = {}
QMARK_CACHE_ENTRIES = 1024
QMARK_CACHE_MAX_CHARS = 8192


class QueuedCursor(base.SQLiteCursorWrapper):
    """A write statement outside a transaction (autocommit) takes the turn for itself."""

    wrapper: DatabaseWrapper

    def convert_query(self, query: str, *, param_names: Any = None) -> str:
        if param_names is not None:
            return super().convert_query(query, param_names=param_names)
        converted = _QMARK_QUERIES.get(query)
        if converted is None:
            converted = super().convert_query(query)
            if len(query) <= QMARK_CACHE_MAX_CHARS and len(_QMARK_QUERIES) < QMARK_CACHE_ENTRIES:
                _QMARK_QUERIES[query] = converted
        return converted

    def execute(self, query: str, params: Any = None) -> Any:
        return self._in_turn(query, super().execute, params)

    def executemany(self, query: str, param_list: Any) -> Any:
        return self._in_turn(query, super().executemany, param_list)

    def _in_turn(self, query: str, run: Any, params: Any) -> Any:
        taken = self._alone_write(query) and self.wrapper.take_turn()
        try:
            return run(query, params)
        finally:
            if taken:
                self.wrapper.give_turn()

    def _alone_write(self, query: str) -> bool:
        return (
            not self.connection.in_transaction
            and query[:32].lstrip()[:7].upper().startswith(WRITE_WORDS)
            and self.wrapper.queued()
        )
