"""docker-compose.yml, Dockerfile and docs/deploy.md refer only to things that exist.

The files parse, the services and their wiring are complete, and every setting, management
command, Celery queue and module they name is real. Where the tools are installed,
`docker compose config` (or `docker-compose config`) reads the Compose file with a .env of every
documented setting, `systemd-analyze verify` checks the documented units, and each worker
instance they start is started for real; without the tools those tests skip and say why.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import time
import tomllib
from importlib import import_module
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
APP_SERVICES = ("web", "worker", "beat")
# Keys of a compose service this project uses, all from the Compose Specification.
KNOWN_SERVICE_KEYS = {
    "build",
    "image",
    "restart",
    "environment",
    "tmpfs",
    "command",
    "ports",
    "depends_on",
    "healthcheck",
    "volumes",
    "stop_grace_period",
    "env_file",
}
DEPENDS_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
ENV_READ = re.compile(
    r"""(?:env_[a-z_]+|os\.environ\.get|os\.environ\.setdefault|os\.getenv)\(\s*"([A-Z][A-Z0-9_]*)"|"""
    r"""os\.environ\[\s*"([A-Z][A-Z0-9_]*)"\s*\]"""
)
MANAGE_COMMAND = re.compile(r"manage\.py\s+([a-z_]+)")


def env_names_read(paths) -> set[str]:
    names = set()
    for path in paths:
        for match in ENV_READ.finditer(path.read_text()):
            names.add(match.group(1) or match.group(2))
    return names


def names_read_by_code() -> set[str]:
    return env_names_read([*ROOT.glob("config/*.py"), *ROOT.glob("apps/**/*.py")])


def names_read_by_settings() -> set[str]:
    return env_names_read([ROOT / "config" / "settings.py", ROOT / "config" / "database.py"])


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def command_words(service: dict) -> list[str]:
    """The command as words; a `sh -c "..."` command is split into the words of its script."""
    command = service["command"]
    words = shlex.split(command) if isinstance(command, str) else [str(w) for w in command]
    if words[:2] == ["sh", "-c"]:
        return shlex.split(words[2].replace("&&", " && "))
    return words


def option(words: list[str], *names: str) -> str:
    for index, word in enumerate(words):
        if word in names:
            return words[index + 1]
    raise AssertionError(f"none of {names} in {words}")


def routed_queues() -> set[str]:
    queues = {settings.CELERY_TASK_DEFAULT_QUEUE}
    queues |= {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    return queues


# --- docker-compose.yml -----------------------------------------------------------------------


def test_compose_has_the_services_and_only_known_keys():
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", *APP_SERVICES}
    for name, service in services.items():
        unknown = set(service) - KNOWN_SERVICE_KEYS
        assert not unknown, f"service {name}: keys outside the compose spec subset: {unknown}"
        assert "image" in service or "build" in service, name


def test_compose_dependencies_point_at_services_with_what_they_wait_for():
    services = compose()["services"]
    for name, service in services.items():
        for target, rule in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown service {target}"
            assert rule["condition"] in DEPENDS_CONDITIONS
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{target} has no healthcheck"
    # Worker and beat start only once web has migrated the database and is up.
    for name in ("worker", "beat"):
        assert services[name]["depends_on"]["web"]["condition"] == "service_healthy"
    for name in ("postgres", "redis"):
        assert services["web"]["depends_on"][name]["condition"] == "service_healthy"


def test_compose_app_services_build_this_dockerfile_and_share_one_environment():
    services = compose()["services"]
    environments = [services[name]["environment"] for name in APP_SERVICES]
    assert environments[0] == environments[1] == environments[2]
    for name in APP_SERVICES:
        assert services[name]["build"] == "."
    assert DOCKERFILE.is_file()


def test_compose_environment_names_are_settings_the_code_reads():
    read = names_read_by_code()
    environment = compose()["services"]["web"]["environment"]
    unknown = sorted(set(environment) - read)
    assert not unknown, f"compose sets variables nothing reads: {unknown}"
    assert environment["DATABASE_URL"].startswith("postgres://")
    assert "@postgres:5432/" in environment["DATABASE_URL"]
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        assert environment[name].startswith(f"${{{name}:-redis://redis:6379/"), environment[name]
    # Each container gets a fresh, private metrics directory (a tmpfs is empty at start).
    assert environment["PROMETHEUS_MULTIPROC_DIR"] in compose()["services"]["web"]["tmpfs"]


def test_compose_postgres_credentials_match_database_url():
    services = compose()["services"]
    pg = services["postgres"]["environment"]
    url = services["web"]["environment"]["DATABASE_URL"]
    assert url == (
        f"postgres://{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@postgres:5432/"
        f"{pg['POSTGRES_DB']}"
    )


def test_compose_web_migrates_then_serves_the_wsgi_app_with_several_workers():
    words = command_words(compose()["services"]["web"])
    commands = [words[i + 1] for i, word in enumerate(words) if word == "manage.py"]
    assert commands == ["migrate"]
    assert words.index("migrate") < words.index("gunicorn")
    module = words[words.index("gunicorn") + 1]
    assert hasattr(import_module(module), "application")
    assert int(option(words, "--workers", "-w")) >= 2


def test_compose_worker_consumes_every_queue_tasks_are_routed_to():
    words = command_words(compose()["services"]["worker"])
    assert words[:4] == ["celery", "-A", "config", "worker"]
    assert set(option(words, "-Q", "--queues").split(",")) == routed_queues()
    assert import_module("config.celery").app.main == "incident_pipeline"


def test_compose_beat_runs_the_sweep_schedule_whose_tasks_exist():
    from config.celery import app

    words = command_words(compose()["services"]["beat"])
    assert words[:4] == ["celery", "-A", "config", "beat"]
    app.autodiscover_tasks(force=True)
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "orchestration.sweep_runs" in scheduled
    assert scheduled <= set(app.tasks), scheduled - set(app.tasks)


# --- Dockerfile -------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_dockerfile_installs_the_project_on_python_311_slim_as_a_non_root_user():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    runs = " ".join(arg for op, arg in instructions if op == "RUN")
    assert re.search(r"pip install \"?\.", runs)
    users = [arg for op, arg in instructions if op == "USER"]
    assert users and users[-1] not in {"root", "0"}
    assert "useradd" in runs and users[-1] in runs


def test_pip_install_brings_what_the_redis_transport_imports():
    # kombu's Redis transport imports `packaging`, which only its `redis` extra declares: a
    # clean `pip install .` (the image) without it fails on the first task sent.
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=!~;\s]", dep, maxsplit=1)[0].lower() for dep in dependencies}
    assert names & {"celery[redis]", "kombu[redis]", "packaging"}, sorted(names)


def test_dockerfile_copies_files_that_exist_and_serves_the_wsgi_app():
    instructions = dockerfile_instructions()
    for op, arg in instructions:
        if op == "COPY":
            *sources, _target = arg.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY source missing: {source}"
    command = json.loads(next(arg for op, arg in instructions if op == "CMD"))
    assert command[:2] == ["gunicorn", "config.wsgi"]
    assert int(option(command, "--workers", "-w")) >= 2


# --- docs/deploy.md ---------------------------------------------------------------------------


def test_deploy_doc_names_only_management_commands_that_exist():
    named = set(MANAGE_COMMAND.findall(DEPLOY_DOC.read_text()))
    assert {"migrate", "sweep_runs", "prune", "create_api_key"} <= named
    missing = sorted(named - set(get_commands()))
    assert not missing, f"docs/deploy.md names commands that do not exist: {missing}"


def test_deploy_doc_worker_queues_are_the_routed_queues():
    text = DEPLOY_DOC.read_text()
    for queues in re.findall(r"celery -A config worker -Q ([a-z,]+)", text):
        assert set(queues.split(",")) <= routed_queues(), queues
    assert "-Q pipelines,notifications" in text


def documented_settings() -> set[str]:
    """First-column names of the settings tables in docs/deploy.md."""
    return set(re.findall(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|", DEPLOY_DOC.read_text(), re.M))


def test_deploy_doc_lists_every_setting_the_settings_module_reads():
    missing = sorted(names_read_by_settings() - documented_settings())
    assert not missing, f"settings missing from docs/deploy.md: {missing}"


def test_deploy_doc_lists_no_setting_that_nothing_reads():
    unknown = sorted(documented_settings() - names_read_by_code())
    assert not unknown, f"docs/deploy.md documents variables nothing reads: {unknown}"


@pytest.mark.parametrize(
    "name",
    [
        "CELERY_VISIBILITY_TIMEOUT_S",
        "PIPELINE_STALE_AFTER_S",
        "PIPELINE_HEARTBEAT_S",
        "PIPELINE_SWEEP_EVERY_S",
    ],
)
def test_deploy_doc_states_the_real_default_of_the_recovery_timings(name):
    row = re.search(rf"^\|\s*`{name}`\s*\|\s*`?([0-9.]+)`?\s*\|", DEPLOY_DOC.read_text(), re.M)
    assert row, f"no row for {name}"
    source = (ROOT / "config" / "settings.py").read_text()
    default = re.search(rf'env_(?:int|float)\("{name}",\s*([0-9.]+)\)', source)
    assert default, f"{name} default not found in settings"
    assert float(row.group(1)) == float(default.group(1))


# --- tools: systemd-analyze and docker compose ------------------------------------------------

UNIT_HEADER = re.compile(r"^# /etc/systemd/system/(\S+)$", re.M)
SRV = "/srv/incident-pipeline"


def documented_units() -> dict[str, str]:
    """Unit name -> file text, from the ```ini blocks of docs/deploy.md."""
    units: dict[str, str] = {}
    for block in re.findall(r"```ini\n(.*?)```", DEPLOY_DOC.read_text(), re.S):
        heads = list(UNIT_HEADER.finditer(block))
        for index, head in enumerate(heads):
            end = heads[index + 1].start() if index + 1 < len(heads) else len(block)
            units[head.group(1)] = block[head.end() : end].strip() + "\n"
    return units


def install_units(where: Path) -> dict[str, Path]:
    """The documented units in `where`, with the install path pointing at this checkout (so
    `systemd-analyze verify` finds the executables)."""
    paths = {}
    for name, text in documented_units().items():
        path = where / name
        path.write_text(text.replace(SRV, str(ROOT)))
        paths[name] = path
    return paths


def wanted_instances(units: dict[str, str]) -> list[str]:
    wants = re.search(r"^Wants=(.*)$", units["incident-pipeline.target"], re.M)
    assert wants, "the target wants nothing"
    return wants.group(1).split()


def test_documented_units_pass_systemd_analyze_verify(tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed (Debian package: systemd)")
    units = documented_units()
    assert {"incident-pipeline.target", "incident-pipeline-worker@.service"} <= set(units)
    install_units(tmp_path)
    # Templates are verified through the instances the target names; the rest as they are.
    names = [n for n in units if "@." not in n] + [n for n in wanted_instances(units) if "@" in n]
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *[f"./{name}" for name in names]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # verify exits 0 on a dependency it had to drop (such as an instance name holding a
    # comma), so any word from it is a failure.
    complaints = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode == 0 and not complaints, "\n".join(complaints)


def systemd_command(line: str, instance: str) -> list[str]:
    """ExecStart= as systemd runs it for `instance`: %i/%I is the instance, %% a percent."""
    expanded = re.sub(r"%([%iI])", lambda m: "%" if m.group(1) == "%" else instance, line)
    return shlex.split(expanded)


@pytest.mark.slow
def test_each_worker_instance_the_target_wants_starts_a_worker(tmp_path):
    from tests.scale.conftest import REDIS_URL, redis_available

    if not redis_available():
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    units = documented_units()
    exec_start = re.search(r"^ExecStart=(.*)$", units["incident-pipeline-worker@.service"], re.M)
    assert exec_start
    instances = [
        n.split("@", 1)[1].removesuffix(".service") for n in wanted_instances(units) if "@" in n
    ]
    assert set(instances) == routed_queues(), instances
    env = dict(os.environ, CELERY_BROKER_URL=REDIS_URL, DATA_DIR=str(tmp_path))
    env.pop("DATABASE_URL", None)
    for instance in instances:
        command = systemd_command(exec_start.group(1).replace(SRV, str(ROOT)), instance)
        log = tmp_path / f"{instance}.log"
        with open(log, "w") as out:
            proc = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
            try:
                deadline = time.monotonic() + 60
                while "ready." not in log.read_text() and proc.poll() is None:
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.2)
                text = log.read_text()
                assert "ready." in text, text
                assert f"{instance}@" in text  # the node name is the instance's
            finally:
                proc.terminate()
                proc.wait(timeout=30)


def compose_tool() -> list[str]:
    for candidate in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(candidate[0]) is None:
            continue
        probe = subprocess.run([*candidate, "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return candidate
    pytest.skip("neither `docker compose` nor `docker-compose` is installed")


# Set by the Compose file itself, whatever .env says (and why).
COMPOSE_FIXED = {
    "PROMETHEUS_MULTIPROC_DIR": "the container's own tmpfs, empty at every start",
    "DATABASE_URL": "the Compose file's own postgres service, with POSTGRES_PASSWORD from .env",
}


def test_docker_compose_config_accepts_the_file_and_every_documented_setting_reaches_the_app(
    tmp_path,
):
    tool = compose_tool()
    shutil.copy(COMPOSE, tmp_path / "docker-compose.yml")
    names = sorted(documented_settings() - set(COMPOSE_FIXED))
    values = {name: f"from-env-{index}" for index, name in enumerate(names)}
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    # Compose prefers the shell's variables to .env's (the tests' own DJANGO_SECRET_KEY is one).
    shell = {k: v for k, v in os.environ.items() if k not in values}
    done = subprocess.run(
        [*tool, "config"], cwd=tmp_path, capture_output=True, text=True, timeout=120, env=shell
    )
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        wrong = {k: environment.get(k) for k, v in values.items() if environment.get(k) != v}
        assert not wrong, f"{name}: documented settings that do not reach the app: {wrong}"


def test_compose_passes_the_env_file_and_overrides_only_what_it_must():
    app = compose()["services"]["web"]
    assert ".env" in (app.get("env_file") or []), "documented settings would not reach the app"
    for name, value in app["environment"].items():
        if name in COMPOSE_FIXED:
            continue
        assert str(value).startswith(f"${{{name}"), (
            f"{name} is fixed to {value!r}: a value in .env would not reach the app"
        )
