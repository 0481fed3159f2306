"""SQLite writers queue on one kernel lock: held for a transaction or a lone write, free after,
and a steady stream of writers no longer starves a third one (was: run_worker waited for a
webhook storm to end)."""

import fcntl
import threading
import time

import pytest

from apps.common.sqlite_queue.base import DatabaseWrapper


def wrapper(path) -> DatabaseWrapper:
    settings = {
        "NAME": str(path), "USER": "", "PASSWORD": "", "HOST": "", "PORT": "",
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE",
                    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
        "TIME_ZONE": None, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False,
        "AUTOCOMMIT": True, "ATOMIC_REQUESTS": False, "TEST": {},
    }  # fmt: skip
    return DatabaseWrapper(settings, alias=f"queue-{time.monotonic_ns()}")


def lock_is_free(path, which: str = "write-lock") -> bool:
    with open(f"{path}.{which}", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


@pytest.fixture
def db_path(tmp_path, django_db_blocker):
    """A database file of its own (not the test database), opened by wrappers made here."""
    with django_db_blocker.unblock():
        yield from made(tmp_path)


def made(tmp_path):
    path = tmp_path / "queue.sqlite3"
    setup = wrapper(path)
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT)")
    setup.close()
    yield path


def test_the_turn_is_held_for_a_transaction_and_free_after_commit_and_rollback(db_path):
    db = wrapper(db_path)
    db.ensure_connection()
    db.set_autocommit(True)
    db._start_transaction_under_autocommit()
    assert not lock_is_free(db_path)
    assert lock_is_free(db_path, "write-queue")  # given back once the turn is had: the next waits
    db.cursor().execute("INSERT INTO t (who) VALUES ('a')")
    db.commit()
    assert lock_is_free(db_path)
    db._start_transaction_under_autocommit()
    db.cursor().execute("INSERT INTO t (who) VALUES ('b')")
    db.rollback()
    assert lock_is_free(db_path)
    db.cursor().execute("INSERT INTO t (who) VALUES ('c')")  # alone: takes and gives the turn
    assert lock_is_free(db_path)
    rows = db.cursor().execute("SELECT who FROM t ORDER BY id").fetchall()
    assert rows == [("a",), ("c",)]
    db.close()


def test_a_third_writer_gets_its_turn_while_two_others_keep_writing(db_path):
    stop = threading.Event()

    def storm(name: str) -> None:
        db = wrapper(db_path)
        db.ensure_connection()
        while not stop.is_set():
            db._start_transaction_under_autocommit()
            db.cursor().execute("INSERT INTO t (who) VALUES (%s)", [name])
            time.sleep(0.003)  # the write work of a webhook, holding the lock
            db.commit()
        db.close()

    threads = [threading.Thread(target=storm, args=(f"web{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.2)
        worker = wrapper(db_path)
        started = time.monotonic()
        for _ in range(30):
            worker.cursor().execute("UPDATE t SET who = 'worker' WHERE id = 1")
        elapsed = time.monotonic() - started
        worker.close()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    # 30 turns behind two writers holding ~3 ms each: about 0.2 s when queued; SQLite's own
    # busy handler (sleeps up to 100 ms, then misses the lock again) took seconds.
    assert elapsed < 1.5, elapsed


def test_a_forked_child_queues_on_its_own_lock_file_not_the_parents(db_path):
    import os

    parent = wrapper(db_path)
    parent.cursor().execute("INSERT INTO t (who) VALUES ('parent')")  # opens its lock file
    inherited = parent._lock_file
    pid = os.fork()
    if pid == 0:  # the child: its turn is its own; the parent's lock file is left as it is
        try:
            took = parent.take_turn()
            ok = took and parent._lock_file is not inherited and not lock_is_free(db_path)
            parent.give_turn()
            os._exit(0 if ok and lock_is_free(db_path) else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert parent._lock_file is inherited
    parent.close()


def test_a_statement_converted_once_gives_the_same_results_every_time(db_path):
    """The "%s" -> "?" rewrite is kept per statement; "%%" still means a literal "%", and a
    statement too long to keep is rewritten each time, the same way."""
    from apps.common.sqlite_queue import base

    db = wrapper(db_path)
    literal = "SELECT %s || '%%' || %s"
    long_one = "SELECT %s" + " " * base.QMARK_CACHE_MAX_CHARS
    for _ in range(2):
        assert db.cursor().execute(literal, ["a", "b"]).fetchone() == ("a%b",)
        assert db.cursor().execute(long_one, [7]).fetchone() == (7,)
    assert base._QMARK_QUERIES[literal] == "SELECT ? || '%' || ?"
    assert long_one not in base._QMARK_QUERIES
    db.close()


def test_the_writer_next_in_line_holds_the_queue_while_it_waits(db_path):
    holder = wrapper(db_path)
    holder.ensure_connection()
    holder._start_transaction_under_autocommit()
    got_turn = threading.Event()

    def wait_for_turn() -> None:
        waiter = wrapper(db_path)  # a connection is used in the thread that made it
        waiter.ensure_connection()
        waiter._start_transaction_under_autocommit()
        got_turn.set()
        waiter.rollback()
        waiter.close()

    thread = threading.Thread(target=wait_for_turn)
    thread.start()
    deadline = time.monotonic() + 5
    while lock_is_free(db_path, "write-queue") and time.monotonic() < deadline:
        time.sleep(0.01)
    # the one that just wrote would now have to queue behind the waiter, not overtake it
    assert not lock_is_free(db_path, "write-queue") and not got_turn.is_set()
    holder.commit()
    thread.join(5)
    assert got_turn.is_set() and lock_is_free(db_path, "write-queue")
    holder.close()
