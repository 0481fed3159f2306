"""The WSGI module gunicorn loads: views imported at start, the loaded objects frozen out of
the garbage collector's reach (each full collection walked them again)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_loading_the_wsgi_app_imports_the_views_and_freezes_what_it_loaded(tmp_path):
    code = (
        "import gc, json, sys; import config.wsgi; "
        "print(json.dumps([gc.get_freeze_count(), 'apps.api.webhooks' in sys.modules]))"
    )
    env = {**os.environ, "DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/db"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=True)  # fmt: skip
    frozen, views_loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert views_loaded
    assert frozen > 10_000  # Django, the apps and their views


def test_a_celery_worker_freezes_what_it_loaded_when_it_starts(tmp_path):
    code = (
        "import gc, json; from celery.signals import worker_init; import config.celery as c; "
        "connected = any(r() is c.freeze_after_start for _, r in worker_init.receivers); "
        "worker_init.send(sender=None); print(json.dumps([connected, gc.get_freeze_count()]))"
    )
    env = {**os.environ, "DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/db"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=True)  # fmt: skip
    connected, frozen = json.loads(done.stdout.strip().splitlines()[-1])
    assert connected and frozen > 10_000
