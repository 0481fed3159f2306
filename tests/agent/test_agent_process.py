"""The agent as a real process posting to a real HTTP server: body, auth, outage and catch-up,
--once exit codes, refused keys and bad input. Django is blocked in every agent process."""

import signal
import subprocess
import sys
import time
import tomllib
from datetime import UTC, datetime

import pytest

from apps.agent.config import configured_checks
from apps.checkers.checks import STATUSES

from .conftest import API_KEY, CHECK_NAMES, QUIET, ROOT

HOST_KEYS = {"os", "kernel", "boot_time", "uptime_s", "cpu_count"}
BODY_KEYS = {"observed_at", "interval_s", "agent_version", "host", "checks", "labels"}


def stop(agent) -> int:
    agent.proc.send_signal(signal.SIGTERM)
    return agent.wait(20)


def disk_status(body: dict) -> str:
    return body["checks"]["disk"]["status"]


def test_posts_snapshots_with_the_key_and_the_documented_body(hub, agents):
    agent = agents.start("--host-name", "web-07", "--interval", "1", *QUIET)
    assert hub.wait_for(lambda: len(hub.accepted()) >= 2), agent.stderr
    assert stop(agent) == 0

    first = hub.requests[0]
    assert first.path == "/api/hosts/web-07/snapshots"
    assert first.headers["authorization"] == f"Bearer {API_KEY}"
    assert first.headers["content-type"] == "application/json"
    body = first.body
    assert set(body) == BODY_KEYS
    observed = datetime.fromisoformat(body["observed_at"])
    assert observed.utcoffset().total_seconds() == 0
    assert abs((datetime.now(UTC) - observed).total_seconds()) < 60
    assert body["interval_s"] == 1
    assert isinstance(body["agent_version"], str) and body["agent_version"]
    assert body["labels"] == {}
    host = body["host"]
    assert set(host) == HOST_KEYS
    assert datetime.fromisoformat(host["boot_time"]).utcoffset().total_seconds() == 0
    assert isinstance(host["uptime_s"], int) and host["cpu_count"] >= 1
    assert isinstance(host["os"], str) and isinstance(host["kernel"], str)
    assert list(body["checks"]) == CHECK_NAMES
    for name, entry in body["checks"].items():
        assert set(entry) == {"status", "message", "readings", "metrics"}, name
        assert entry["status"] in STATUSES
        assert entry["message"] and "\n" not in entry["message"]
    assert "percent" in body["checks"]["memory"]["readings"]
    assert set(body["checks"]["disk"]["readings"]["paths"]) == {"/"}

    # The hub can grade the readings itself with the same classes and gets the same results.
    checks = configured_checks(QUIET[1::2])
    for name, entry in body["checks"].items():
        result = checks[name].evaluate(entry["readings"])
        assert (result.status, result.message) == (entry["status"], entry["message"]), name
        assert result.metrics == entry["metrics"], name

    second = hub.accepted()[1]
    assert second["observed_at"] > body["observed_at"]
    lines = agent.stderr_lines()
    assert "posting to " + hub.url + "/api/hosts/web-07/snapshots" in lines[0]
    assert lines[-1] == "incident-agent: stopped by SIGTERM"
    assert API_KEY not in agent.stderr and "Traceback" not in agent.stderr


def test_keeps_status_changes_while_the_hub_is_away_and_catches_up(hub, agents, tmp_path):
    watched = tmp_path / "data"
    watched.mkdir()
    agent = agents.start(
        "--host-name", "web-07", "--interval", "1", *QUIET, "--option", f"disk.paths={watched}"
    )
    assert hub.wait_for(lambda: len(hub.accepted()) >= 1), agent.stderr
    assert disk_status(hub.accepted()[0]) == "ok"

    hub.stop()  # connection refused
    time.sleep(1.5)
    watched.rmdir()  # disk: ok -> unknown while nobody listens
    time.sleep(2.5)
    watched.mkdir()  # and back to ok before the hub returns
    time.sleep(1.5)
    hub.status = 503
    hub.start()  # back on the same port, but answering 503
    assert hub.wait_for(lambda: any(p.answered == 503 for p in hub.requests)), agent.stderr
    outage_end = time.time()
    hub.delay_s = 0.2
    hub.status = 202

    def caught_up() -> bool:
        late = [
            b
            for b in hub.accepted()
            if datetime.fromisoformat(b["observed_at"]).timestamp() > outage_end
        ]
        return bool(late)

    assert hub.wait_for(caught_up, 40), agent.stderr
    assert stop(agent) == 0

    bodies = hub.accepted()
    statuses = [disk_status(b) for b in bodies]
    assert "unknown" in statuses, statuses  # the change made during the outage arrived
    first_unknown = statuses.index("unknown")
    assert "ok" in statuses[first_unknown:]  # and so did the change back
    missing = bodies[first_unknown]["checks"]["disk"]
    assert "No such file or directory" in missing["message"]
    assert "error" in missing["readings"]["paths"][str(watched)]
    times = [b["observed_at"] for b in bodies]
    assert times == sorted(times)  # sent in the order observed
    assert hub.max_in_flight == 1

    lines = agent.stderr_lines()
    failures = [line for line in lines if "hub unavailable" in line]
    assert failures and all("next in" in line for line in failures)
    assert any("Connection refused" in line for line in failures)
    assert any("HTTP 503" in line for line in failures)
    recoveries = [line for line in lines if "hub answers again" in line]
    assert len(recoveries) == 1, lines
    assert "Traceback" not in agent.stderr


@pytest.mark.parametrize(
    ("options", "code", "status"),
    [
        ([], 0, "OK"),
        (["--option", "memory.warning=0"], 1, "WARNING"),
        (["--option", "memory.warning=0", "--option", "memory.critical=0"], 2, "CRITICAL"),
        (["--option", "disk.paths=/no/such/dir"], 3, "UNKNOWN"),
    ],
)
def test_once_exits_with_the_worst_check(hub, agents, options, code, status):
    exit_code, stdout, stderr = agents.run("--once", "--host-name", "web-07", *QUIET, *options)
    assert exit_code == code, stderr
    assert stdout.startswith(f"{status}: web-07 ") and stdout.count("\n") == 1
    assert len(hub.requests) == 1 and hub.requests[0].path == "/api/hosts/web-07/snapshots"
    assert stderr == ""


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_is_one_line_and_exit_2_not_a_retry_loop(hub, agents, status):
    hub.status = status
    agent = agents.start("--host-name", "web-07", "--interval", "1")
    assert agent.wait(30) == 2
    last = agent.stderr_lines()[-1]
    assert last.startswith(f"incident-agent: error: the hub refused the API key (HTTP {status})")
    assert len(agent.stderr_lines()) == 2  # the start line and the error
    assert len(hub.requests) == 1
    assert API_KEY not in agent.stderr

    code, stdout, stderr = agents.run("--once")
    assert (code, stdout, len(stderr.splitlines())) == (2, "", 1)


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ([], {"AGENT_HUB_URL": None}, "AGENT_HUB_URL is not set"),
        ([], {"AGENT_API_KEY": None}, "AGENT_API_KEY is not set"),
        ([], {"AGENT_API_KEY": "  "}, "AGENT_API_KEY is not set"),
        ([], {"AGENT_HUB_URL": "hub.example.com"}, "AGENT_HUB_URL must be an http(s) URL"),
        (["--api-key", "x"], {}, "unrecognized arguments: --api-key x"),
        (["--interval", "0"], {}, "--interval must be a whole number of seconds"),
        ([], {"AGENT_INTERVAL_S": "soon"}, "AGENT_INTERVAL_S must be a whole number"),
        (["--host-name", "web 07"], {}, "host name 'web 07' must be letters"),
        (["--option", "cpu"], {}, "--option must look like check.key=value"),
        (["--option", "gpu.warning=1"], {}, "unknown check 'gpu'"),
        (["--option", "cpu.warning=hot"], {}, "must be a number or none, got 'hot'"),
    ],
)
def test_bad_input_is_a_one_line_error_and_exit_2(hub, agents, args, env, message):
    code, stdout, stderr = agents.run("--once", *args, env=agents.env(**env))
    assert code == 2
    assert stdout == ""
    assert stderr.startswith("incident-agent: error: ") and stderr.count("\n") == 1
    assert message in stderr
    assert hub.requests == []


def test_the_interval_and_host_name_come_from_the_environment(hub, agents):
    env = agents.env(AGENT_INTERVAL_S="7", AGENT_HOST_NAME="db-3")
    code, _, stderr = agents.run("--once", *QUIET, env=env)
    assert code == 0, stderr
    assert hub.requests[0].path == "/api/hosts/db-3/snapshots"
    assert hub.requests[0].body["interval_s"] == 7


def test_sigint_stops_it_cleanly_while_the_hub_is_down(hub, agents):
    hub.stop()
    agent = agents.start("--interval", "1")
    deadline = time.monotonic() + 30
    while "hub unavailable" not in agent.stderr and time.monotonic() < deadline:
        time.sleep(0.1)
    agent.proc.send_signal(signal.SIGINT)
    assert agent.wait(20) == 0
    assert agent.stderr_lines()[-1].startswith("incident-agent: stopped by SIGINT")
    assert "Traceback" not in agent.stderr


def test_python_m_and_the_console_script_entry_point():
    done = subprocess.run(
        [sys.executable, "-m", "apps.agent", "--version"],
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout.startswith("incident-agent "), done.stderr
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["incident-agent"] == "apps.agent.cli:main"
