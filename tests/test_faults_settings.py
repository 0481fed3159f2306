"""Fault injection for settings: every boolean, number, URL and level in the environment is
checked at start with a one-line ImproperlyConfigured (no traceback, exit 1); the development
SECRET_KEY is refused with DEBUG off; `check --deploy` passes with the production environment
that docs/deploy.md documents."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOOD_KEY = "a-long-random-production-key-" + "0123456789abcdef" * 3


@pytest.fixture
def environment(tmp_path):
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    return dict(
        keep,
        DJANGO_SECRET_KEY=GOOD_KEY,
        DATA_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


BAD = [
    ("INGEST_START_RUNS", "maybe", "INGEST_START_RUNS must be 1/0, true/false, yes/no or on/off"),
    ("DJANGO_DEBUG", "yes-please", "DJANGO_DEBUG must be 1/0"),
    ("OUTBOUND_ALLOW_PRIVATE", "2", "OUTBOUND_ALLOW_PRIVATE must be"),
    ("DATABASE_URL", "mysq://db/x", "DATABASE_URL must start with sqlite:// or postgres://"),
    ("DATABASE_URL", "postgres://[::1", "DATABASE_URL is not a valid URL"),
    ("LOG_LEVEL", "verbose", "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ("OUTBOUND_TIMEOUT_S", "nan", "OUTBOUND_TIMEOUT_S must be a finite number"),
    ("OUTBOUND_TIMEOUT_S", "10s", "OUTBOUND_TIMEOUT_S must be a number"),
    ("NOTIFY_MAX_ATTEMPTS", "-1", "NOTIFY_MAX_ATTEMPTS must be a whole number of at least 0"),
    ("NTFY_URL", "ntfy.sh/topic", "NTFY_URL must start with http:// or https://"),
    (
        "INTELLIGENCE_PROVIDER",
        "gpt5",
        "INTELLIGENCE_PROVIDER must be local, openai, anthropic or ollama, got 'gpt5'",
    ),
    ("PIPELINE_RUNNER", "cron", "PIPELINE_RUNNER must be celery, worker or thread, got 'cron'"),
    ("PROMETHEUS_URL", "http://", "PROMETHEUS_URL has no host"),
    ("CELERY_BROKER_URL", "http://redis:6379/0", "CELERY_BROKER_URL must start with redis://"),
    ("CACHE_URL", "memcached://x", "CACHE_URL must start with redis://"),
    ("EMAIL_URL", "http://mail.example.com", "EMAIL_URL must look like smtp://"),
    ("EMAIL_URL", "smtp://mail.example.com:port", "EMAIL_URL has an invalid port"),
]


def test_email_url_gives_host_port_user_password_and_tls():
    from config.env import smtp_url

    assert smtp_url("smtp://ops%40x:p%2Fw@mail.example.com") == (
        "mail.example.com", 25, "ops@x", "p/w", False, False,
    )  # fmt: skip
    assert smtp_url("smtp://mail.example.com?tls=1")[1:] == (25, "", "", True, False)
    assert smtp_url("smtp+tls://mail.example.com")[1] == 587
    assert smtp_url("smtps://mail.example.com:2465")[1:] == (2465, "", "", False, True)


@pytest.mark.parametrize(("name", "value", "message"), BAD, ids=[f"{n}={v}" for n, v, _ in BAD])
def test_a_bad_setting_is_one_line_at_start(environment, name, value, message):
    ran = manage({**environment, name: value}, "check")
    assert ran.returncode == 1
    assert "Traceback" not in ran.stderr
    assert ran.stderr.count("\n") == 1, ran.stderr
    assert ran.stderr.startswith("ImproperlyConfigured: ")
    assert message in ran.stderr


DATABASE_FAULTS = [
    ("postgres://postgres@127.0.0.1:1/nowhere", "on 127.0.0.1:1/nowhere", "check DATABASE_URL"),
    ("sqlite:////nonexistent-dir/x/db.sqlite3", "unable to open database file",
     "check DATABASE_URL"),
    ("", "no such table", "run `manage.py migrate` first"),  # the default SQLite, never migrated
]  # fmt: skip


@pytest.mark.parametrize(("url", "detail", "hint"), DATABASE_FAULTS)
def test_a_database_the_command_cannot_use_is_one_line(environment, url, detail, hint):
    env = {**environment, "DATABASE_URL": url} if url else {
        k: v for k, v in environment.items() if k != "DATABASE_URL"}  # fmt: skip
    ran = manage(env, "runs", "--limit", "1")
    assert ran.returncode == 1
    assert "Traceback" not in ran.stderr and ran.stderr.count("\n") == 1, ran.stderr
    assert ran.stderr.startswith("DatabaseError: OperationalError on ")
    assert detail in ran.stderr and hint in ran.stderr
    with_traceback = manage(env, "runs", "--limit", "1", "--traceback")
    assert "Traceback" in with_traceback.stderr


@pytest.mark.parametrize("key", ["insecure-dev-key-change-me-in-production", "short"])
def test_the_development_secret_key_is_refused_with_debug_off(environment, key):
    ran = manage({**environment, "DJANGO_SECRET_KEY": key}, "check")
    assert ran.returncode == 1
    assert ran.stderr.count("\n") == 1, ran.stderr
    assert "DJANGO_SECRET_KEY is unset, the development default" in ran.stderr


def test_a_fleet_on_postgresql_must_set_its_key(environment):
    fleet = {**environment, "DJANGO_SECRET_KEY": "", "DATABASE_URL": "postgres://db.invalid/x"}
    ran = manage(fleet, "check")
    assert ran.returncode == 1 and ran.stderr.count("\n") == 1, ran.stderr
    assert "the same on every machine of a fleet" in ran.stderr
    assert not (Path(environment["DATA_DIR"]) / "secret-key").exists()


def test_one_machine_on_sqlite_keeps_a_private_key_of_its_own(environment):
    """Zero set-up: no DJANGO_SECRET_KEY, DEBUG off, SQLite: a random key in DATA_DIR, made
    once, readable by its owner only, and the same for every later process."""
    alone = {**environment, "DJANGO_SECRET_KEY": ""}
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = manage(alone, "shell", "-c", code)
    assert first.returncode == 0, first.stderr
    key_file = Path(environment["DATA_DIR"]) / "secret-key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text().strip()
    assert len(key) >= 50 and first.stdout.strip().splitlines()[-1] == key
    assert manage(alone, "shell", "-c", code).stdout.strip().splitlines()[-1] == key


def test_development_runs_with_debug_on_and_no_key(environment):
    ran = manage({**environment, "DJANGO_SECRET_KEY": "", "DJANGO_DEBUG": "1"}, "check")
    assert ran.returncode == 0, ran.stderr


@pytest.mark.parametrize("value", ["1", "true", "YES", "on", "0", "False", "no", "OFF", ""])
def test_every_documented_boolean_spelling_is_accepted(environment, value):
    ran = manage({**environment, "INGEST_START_RUNS": value}, "check")
    assert ran.returncode == 0, ran.stderr


def documented_production_env() -> dict[str, str]:
    """The environment file of docs/deploy.md's systemd section, as written there."""
    text = (ROOT / "docs" / "deploy.md").read_text()
    block = re.search(r"# /etc/incident-pipeline/env[^\n]*\n(.*?)```", text, re.S)
    assert block, "docs/deploy.md lost its environment file"
    lines = [line for line in block.group(1).splitlines() if "=" in line and line[0] != "#"]
    pairs = (line.split("=", 1) for line in lines)
    return {name.strip(): value.strip() for name, value in pairs}


def test_check_deploy_passes_with_the_documented_production_environment(environment, tmp_path):
    documented = documented_production_env()
    assert documented["DJANGO_HTTPS"] == "1"
    env = {**environment, **documented}
    # What the page leaves for the reader to fill in, and paths of the machine it describes.
    env |= {
        "DJANGO_SECRET_KEY": GOOD_KEY,
        "DATA_DIR": str(tmp_path),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",  # check --deploy never connects
    }
    (tmp_path / "metrics").mkdir()
    ran = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "no issues" in ran.stdout


@pytest.mark.parametrize(
    ("url", "binding", "expected"),
    [
        ("postgres://127.0.0.1/x", "1",
         {"server_side_binding": True, "prepare_threshold": 5,
          "options": "-c plan_cache_mode=force_custom_plan"}),
        ("postgres://127.0.0.1/x?options=-c%20statement_timeout%3D5000", "1",
         {"server_side_binding": True, "prepare_threshold": 5,
          "options": "-c plan_cache_mode=force_custom_plan -c statement_timeout=5000"}),
        ("postgres://127.0.0.1/x", "0", {}),
    ],
)  # fmt: skip
def test_postgresql_prepares_statements_planned_for_their_values(environment, url, binding,
                                                                 expected):  # fmt: skip
    env = {**environment, "DATABASE_URL": url, "DATABASE_SERVER_SIDE_BINDING": binding}
    code = "import json; from django.conf import settings; print(json.dumps(settings.DATABASES['default'].get('OPTIONS', {})))"  # noqa: E501
    ran = manage(env, "shell", "-c", code)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout.strip().splitlines()[-1]) == expected


def test_the_provider_names_in_the_settings_are_the_registered_providers():
    from django.conf import settings

    from apps.intelligence.providers import PROVIDERS

    assert tuple(PROVIDERS) == settings.INTELLIGENCE_PROVIDERS


def test_output_piped_into_a_reader_that_leaves_early_is_no_traceback(environment, tmp_path):
    """`manage.py ... | head -1`: was a BrokenPipeError traceback."""
    assert manage(environment, "migrate", "-v", "0").returncode == 0
    config = tmp_path / "c.json"
    mapping = {"mapping": {"n": "payload.server"}}
    config.write_text(json.dumps({"nodes": [{"id": "a", "type": "transform", "config": mapping}]}))
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line is written
    try:
        ran = subprocess.run(
            [sys.executable, "manage.py", "run_pipeline", "--config", str(config),
             "--payload", '{"server": "web-01"}', "--dry-run"],
            env=environment, cwd=ROOT, stdout=write_end, stderr=subprocess.PIPE, text=True,
            timeout=60,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert ran.returncode == 1
    assert "Traceback" not in ran.stderr and "BrokenPipeError" not in ran.stderr, ran.stderr
