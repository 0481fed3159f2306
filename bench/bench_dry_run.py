"""Wall time of `manage.py run_pipeline --config X --dry-run`, median of 5 (target <= 0.5 s)."""

import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _setup import ROOT

# PostgreSQL settings need a secret key (SQLite makes its own): the bench's processes share this one.
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-dry-"))
    env = dict(
        os.environ, DATABASE_URL=f"sqlite:///{data_dir / 'db.sqlite3'}", DATA_DIR=str(data_dir)
    )
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True)
    command = [
        *manage,
        "run_pipeline",
        "--config",
        str(ROOT / "pipelines" / "health-check.json"),
        "--payload",
        '{"server": "web-01"}',
        "--dry-run",
    ]
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)  # warm-up
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        timings.append(time.perf_counter() - started)
    print("dry-run: manage.py run_pipeline --config pipelines/health-check.json --dry-run")
    print("  runs    : " + ", ".join(f"{t:.3f}" for t in timings) + " s")
    print(f"  median  : {statistics.median(timings):.3f} s (target <= 0.5 s)")


if __name__ == "__main__":
    main()
