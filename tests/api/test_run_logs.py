"""Every log line of a run carries its trace_id and run_id; LOG_JSON=1 makes the lines JSON."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from apps.common.logging import RunContextFilter

ROOT = Path(__file__).resolve().parents[2]

EMIT = """
import logging, django
django.setup()
from apps.common.logging import run_context
with run_context("trace-abc", 42):
    logging.getLogger("apps.orchestration.engine").warning("node %s failed", "pick")
logging.getLogger("apps.orchestration.engine").warning("outside any run")
"""


class Lines(logging.Handler):
    """The configured text format and run filter, writing to a list."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.lines: list[str] = []
        self.addFilter(RunContextFilter())
        self.setFormatter(logging.Formatter(settings.LOGGING["formatters"]["text"]["format"]))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def run_lines():
    """Log lines (LOG_LEVEL=INFO) written while the test runs."""
    handler = Lines()
    root, apps_logger = logging.getLogger(), logging.getLogger("apps")
    level = apps_logger.level
    root.addHandler(handler)
    apps_logger.setLevel(logging.INFO)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        apps_logger.setLevel(level)


def failed_node_line(lines: list[str]) -> str:
    found = [line for line in lines if "node pick failed" in line]
    assert found, lines
    return found[0]


@pytest.mark.django_db
def test_log_line_inside_a_sync_api_run_carries_trace_and_run_id(api, stored_definition, run_lines):
    # No "host" in the payload: the node fails and the engine logs it inside the run.
    result = api.post("/api/definitions/pick-host/execute", {"payload": {}}).json()
    assert result["status"] == "FAILED"
    line = failed_node_line(run_lines)
    assert f"[trace={result['trace_id']} run={result['run_id']}]" in line


@pytest.mark.django_db
def test_log_line_inside_a_queued_run_carries_trace_and_run_id(
    api, stored_definition, run_lines, django_capture_on_commit_callbacks
):
    from apps.orchestration.services import execute_run

    with django_capture_on_commit_callbacks(execute=False):
        accepted = api.post(
            "/api/definitions/pick-host/execute?async=1", {"payload": {}, "trace_id": "t-queued"}
        ).json()
    execute_run(accepted["run_id"])
    line = failed_node_line(run_lines)
    assert f"[trace=t-queued run={accepted['run_id']}]" in line


def test_the_configured_handler_has_the_run_filter():
    handler = settings.LOGGING["handlers"]["stderr"]
    assert "run_context" in handler["filters"]
    assert settings.LOGGING["filters"]["run_context"]["()"].endswith("RunContextFilter")


def emitted_lines(**env: str) -> list[str]:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    done = subprocess.run(
        [sys.executable, "-c", EMIT],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [line for line in done.stderr.splitlines() if line.strip()]


def test_log_json_gives_one_json_document_per_line():
    lines = emitted_lines(LOG_JSON="1")
    docs = [json.loads(line) for line in lines]
    inside, outside = docs
    assert inside["message"] == "node pick failed"
    assert inside["trace_id"] == "trace-abc"
    assert inside["run_id"] == "42"
    assert inside["level"] == "WARNING"
    assert inside["logger"] == "apps.orchestration.engine"
    assert outside["trace_id"] == "-" and outside["run_id"] == "-"


def test_text_logs_by_default():
    lines = emitted_lines(LOG_JSON="")
    assert "[trace=trace-abc run=42] node pick failed" in lines[0]
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[0])
