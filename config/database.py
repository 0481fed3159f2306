"""The database settings beyond DATABASE_URL: SQLite's queued writers, PostgreSQL's statements."""

import os
from pathlib import Path

from dj_database_url import DBConfig

from config.env import env_bool, env_int


def configured(database: DBConfig, data_dir: Path) -> DBConfig:
    """`database` (dj_database_url's parse of DATABASE_URL) with this project's options."""
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # Django's SQLite backend whose writers of every process queue on one kernel lock
        # instead of polling for SQLite's (apps/common/sqlite_queue): run_worker gets its turn
        # in a storm.
        database["ENGINE"] = "apps.common.sqlite_queue"
        database["CONN_MAX_AGE"] = env_int("SQLITE_CONN_MAX_AGE", 600)
        database["OPTIONS"] = {
            "timeout": env_int("SQLITE_TIMEOUT_S", 20),
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
            ),
        }
        # A file, not memory, so that worker and server processes started by tests share it.
        database["TEST"] = {"NAME": str(data_dir / f"test-{os.getpid()}.sqlite3")}
    elif env_bool("DATABASE_SERVER_SIDE_BINDING", True):
        # psycopg sends parameters apart from the statement and prepares a statement once a
        # connection has run it 5 times (Django turns that off unless asked): ingestion's
        # statements are parsed once per connection. Each is still planned for its values (a
        # generic plan made while a new table looks empty scanned every alert: 3.4 ms instead
        # of 0.08 per lookup). Off (0) behind a pooler that cannot keep prepared statements,
        # such as PgBouncer before 1.21 in transaction mode.
        options = database.setdefault("OPTIONS", {})
        options["server_side_binding"] = True
        options.setdefault("prepare_threshold", 5)
        # first, so that a plan_cache_mode in DATABASE_URL's own options wins
        own = options.get("options", "")
        options["options"] = f"-c plan_cache_mode=force_custom_plan {own}".strip()
    return database
