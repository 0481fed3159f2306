"""Shared set-up for benchmarks: Django on a throwaway SQLite (WAL) database."""

import os
import secrets
import sys
import tempfile
from pathlib import Path

# PostgreSQL settings need a secret key (SQLite makes its own): the bench's processes share this one.
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))

ROOT = Path(__file__).resolve().parent.parent


def django_on_temp_sqlite() -> Path:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-"))
    os.environ.setdefault("DATA_DIR", str(data_dir))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{data_dir / 'bench.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return data_dir
