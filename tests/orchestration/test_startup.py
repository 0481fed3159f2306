"""What keeps a command's start-up short: no heavy import for a dry-run, the collector back on
after start-up, and compiled templates cached on disk."""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.test import override_settings

from apps.common import templating

ROOT = Path(__file__).resolve().parents[2]
HEAVY = {
    "pydantic",
    "prometheus_client",
    "psutil",
    "celery",
    "kombu",
    "redis",
    "httpx",
    "openai",
    "anthropic",
    "ollama",
    "ninja",
}
PROBE = """
import gc, json, runpy, sys
sys.argv = ["manage.py", *sys.argv[1:]]
runpy.run_path("manage.py", run_name="__main__")
loaded = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(%r)))
sys.stderr.write(json.dumps({"heavy": loaded, "gc": gc.isenabled()}) + "\\n")
"""


@pytest.fixture
def probe_env(tmp_path):
    env = dict(
        os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", DATA_DIR=str(tmp_path)
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], env=env, check=True, cwd=ROOT
    )
    return env


def probe(env: dict, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE % json.dumps(sorted(HEAVY)), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("config", ["health-check.json", "alert-triage.json"])
def test_dry_run_imports_no_heavy_package_and_resumes_gc(probe_env, config):
    found = probe(
        probe_env, "run_pipeline", "--config", f"pipelines/{config}", "--dry-run", "--json"
    )
    assert found == {"heavy": [], "gc": True}


def test_a_real_run_has_the_collector_on(probe_env):
    found = probe(
        probe_env,
        "run_pipeline",
        "--config",
        "pipelines/health-check.json",
        "--payload",
        "{}",
        "--json",
    )
    assert found["gc"] is True
    assert "psutil" in found["heavy"]  # the context node really ran its checks


def test_compiled_templates_are_cached_under_data_dir(tmp_path):
    with override_settings(DATA_DIR=tmp_path):
        templating.environment.cache_clear()
        templating._compiled.cache_clear()
        try:
            assert templating.render("host {{ h }}", {"h": "web-01"}) == "host web-01"
            cached = list((tmp_path / "cache" / "jinja2").iterdir())
            assert len(cached) == 1
            # a changed template is a new entry, never the old code
            assert templating.render("node {{ h }}!", {"h": "web-01"}) == "node web-01!"
            assert len(list((tmp_path / "cache" / "jinja2").iterdir())) == 2
            # a new process (cleared memory caches) reads the compiled code back, compiling nothing
            templating.environment.cache_clear()
            templating._compiled.cache_clear()
            env = templating.environment()
            compiled = []
            original = env.compile
            env.compile = lambda *a, **k: compiled.append(a) or original(*a, **k)
            assert templating.render("host {{ h }}", {"h": "db-02"}) == "host db-02"
            assert compiled == []
        finally:
            templating.environment.cache_clear()
            templating._compiled.cache_clear()


def _make_unwritable(directory: Path) -> None:
    directory.chmod(0o500)
    if os.geteuid() == 0:  # root ignores modes; the immutable flag stops root too (ext4)
        subprocess.run(["chattr", "+i", str(directory)], check=False, capture_output=True)


def _make_writable(directory: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(directory)], check=False, capture_output=True)
    directory.chmod(0o700)


def test_threads_compiling_the_same_new_template_all_succeed(tmp_path):
    errors: list[BaseException] = []
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: races show up
    try:
        with override_settings(DATA_DIR=tmp_path):
            _render_together(errors)
    finally:
        sys.setswitchinterval(switch)
    assert errors == []


def _render_together(errors: list[BaseException], rounds: int = 100, threads: int = 6) -> None:
    """Each round, `threads` threads render one new template at the same moment."""
    templating.environment.cache_clear()
    for round_ in range(rounds):
        source = f"round {round_}: {{{{ x }}}}"
        barrier = threading.Barrier(threads)

        def render(source: str = source, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                assert templating.render(source, {"x": 1}).endswith(": 1")
            except BaseException as exc:  # collected: a thread's failure fails the test
                errors.append(exc)

        started = [threading.Thread(target=render) for _ in range(threads)]
        for thread in started:
            thread.start()
        for thread in started:
            thread.join()
    templating.environment.cache_clear()


def test_an_unwritable_template_cache_is_skipped(tmp_path):
    cache = tmp_path / "cache" / "jinja2"
    cache.mkdir(parents=True)
    _make_unwritable(cache)
    try:
        try:
            (cache / "probe").write_text("")
        except OSError:
            pass
        else:
            pytest.skip("cannot make a directory unwritable here")
        with override_settings(DATA_DIR=tmp_path):
            templating.environment.cache_clear()
            templating._compiled.cache_clear()
            assert templating.render("host {{ h }}", {"h": "web-01"}) == "host web-01"
    finally:
        _make_writable(cache)
        templating.environment.cache_clear()
        templating._compiled.cache_clear()


def test_check_with_the_admin_tag_sees_the_registered_admin_classes(probe_env):
    code = (
        "import django; django.setup()\n"
        "from django.contrib import admin\n"
        "from django.core.management import call_command\n"
        "before = len(admin.site._registry)\n"
        "call_command('check', '--tag', 'admin', verbosity=0)\n"
        "print('registered', before, len(admin.site._registry))\n"
    )
    env = dict(probe_env, DJANGO_SETTINGS_MODULE="config.settings")
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("registered"))
    before, after = map(int, line.split()[1:])
    assert before == 0  # start-up no longer imports the admin modules
    assert after >= 10  # the check loaded them, so admin.E* errors are found
