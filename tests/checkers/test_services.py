"""validate_context_config and run_checks: the contract the context node calls."""

import socket
import time

import psutil
import pytest

from apps.checkers.checks import CHECKS
from apps.checkers.models import CheckRun
from apps.checkers.services import CheckerError, run_checks, validate_context_config
from apps.orchestration.models import PipelineRun

KNOWN = "cpu, disk, load, memory, network, process, swap, uptime"


def test_valid_configs_have_no_problems():
    assert validate_context_config({}) == []
    assert validate_context_config({"include": ["cpu", "disk"]}) == []
    assert (
        validate_context_config(
            {"include": ["disk"], "options": {"disk": {"paths": ["/"], "warning": 80}}}
        )
        == []
    )
    assert validate_context_config({"options": {"cpu": {"warning": None}}}) == []


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"include": ["foo"]}, f"unknown check 'foo' in include (known: {KNOWN})"),
        ({"include": "cpu"}, "include must be a list of check names, got 'cpu'"),
        ({"include": [1]}, "include must be a list of check names, got [1]"),
        ({"include": []}, "include is empty; leave it out to run all checks"),
        ({"include": ["cpu", "cpu"]}, "check 'cpu' is listed more than once in include"),
        ({"checks": ["cpu"]}, "unknown key 'checks' in config (allowed: include, options)"),
        ({"options": {"bar": {}}}, f"unknown check 'bar' in options (known: {KNOWN})"),
        ({"options": ["cpu"]}, "options must be an object of check names to options, got ['cpu']"),
        ({"options": {"cpu": 5}}, "options for check 'cpu' must be an object, got 5"),
        (
            {"options": {"disk": {"size": 1}}},
            "unknown option 'size' for check 'disk' (known: critical, paths, warning)",
        ),
        (
            {"options": {"disk": {"warning": "lots"}}},
            "check 'disk' option 'warning' must be a number or none, got 'lots'",
        ),
        (
            {"include": ["cpu"], "options": {"disk": {"paths": ["/"]}}},
            "options given for check 'disk' which is not in include",
        ),
        ("cpu", "config must be an object with keys include and options, got 'cpu'"),
    ],
)
def test_problems_are_one_sentence_without_node_prefix(config, expected):
    problems = validate_context_config(config)
    assert problems == [expected]
    assert not problems[0].lower().startswith("node")


@pytest.mark.django_db
def test_run_checks_defaults_shape_records_and_time():
    started = time.perf_counter()
    report = run_checks(trace_id="trace-1")
    elapsed = time.perf_counter() - started
    assert elapsed < 0.9, f"default run took {elapsed:.3f}s"

    assert report["checks_run"] == len(CHECKS) == 8
    assert list(report["checks"]) == list(CHECKS)
    for result in report["checks"].values():
        assert set(result) == {"status", "message", "metrics", "duration_ms"}
        assert result["status"] != "unknown", result["message"]
        assert result["message"] and "\n" not in result["message"]
    assert sum(report["summary"].values()) == 8
    assert set(report["summary"]) == {"ok", "warning", "critical", "unknown"}
    host = report["host"]
    assert host["hostname"] == socket.gethostname()
    assert abs(host["uptime_s"] - (time.time() - psutil.boot_time())) < 5
    assert host["os"].startswith("Linux")

    rows = CheckRun.objects.filter(trace_id="trace-1")
    assert rows.count() == 8
    cpu = rows.get(check_name="cpu")
    assert cpu.status == report["checks"]["cpu"]["status"]
    assert cpu.metrics == report["checks"]["cpu"]["metrics"]
    assert cpu.host == host["hostname"]
    assert cpu.duration_ms >= 10  # the CPU sample really waited


@pytest.mark.django_db
def test_run_checks_links_pipeline_run_and_honours_include_and_options(fake):
    fake.memory(90)
    run = PipelineRun.objects.create(trace_id="t-2")
    report = run_checks(["memory"], {"memory": {"warning": 95}}, trace_id="t-2", pipeline_run=run)
    assert report["checks_run"] == 1
    assert report["checks"]["memory"]["status"] == "ok"
    assert list(run.check_runs.values_list("check_name", "status")) == [("memory", "ok")]


@pytest.mark.django_db
def test_skip_setting_and_explicit_include(settings):
    settings.CHECKERS_SKIP = ["network", "process", "cpu"]
    report = run_checks()
    assert list(report["checks"]) == ["memory", "swap", "load", "disk", "uptime"]
    assert run_checks(["cpu"])["checks_run"] == 1  # asked for by name: runs


@pytest.mark.django_db
def test_unknown_skip_name_and_skipping_everything_are_errors(settings):
    settings.CHECKERS_SKIP = ["cpuu"]
    with pytest.raises(CheckerError, match="CHECKERS_SKIP names unknown check 'cpuu'"):
        run_checks()
    settings.CHECKERS_SKIP = list(CHECKS)
    with pytest.raises(CheckerError, match="CHECKERS_SKIP skips all"):
        run_checks()
    assert CheckRun.objects.count() == 0


@pytest.mark.django_db
def test_bad_config_raises_and_writes_nothing():
    with pytest.raises(CheckerError, match="unknown check 'foo' in include"):
        run_checks(["foo"])
    with pytest.raises(CheckerError, match="unknown option 'x' for check 'cpu'"):
        run_checks(options={"cpu": {"x": 1}})
    assert CheckRun.objects.count() == 0


@pytest.mark.django_db
def test_a_failing_check_does_not_stop_the_others(fake):
    fake.set("virtual_memory", RuntimeError("meminfo gone"))
    report = run_checks(["memory", "disk", "swap"])
    assert report["checks"]["memory"]["status"] == "unknown"
    assert "meminfo gone" in report["checks"]["memory"]["message"]
    assert report["checks"]["disk"]["status"] != "unknown"
    assert report["summary"]["unknown"] == 1


@pytest.mark.django_db
def test_a_hung_check_times_out_as_unknown(monkeypatch, settings):
    settings.CHECKERS_TIMEOUT_S = 0.3
    real_disk_usage = psutil.disk_usage

    def stuck(path):
        time.sleep(2)
        return real_disk_usage(path)

    monkeypatch.setattr(psutil, "disk_usage", stuck)
    started = time.perf_counter()
    report = run_checks(["disk", "memory"])
    assert time.perf_counter() - started < 1
    assert report["checks"]["disk"]["status"] == "unknown"
    assert report["checks"]["disk"]["message"] == "disk check timed out after 0.3s"
    assert report["checks"]["memory"]["status"] != "unknown"
    assert CheckRun.objects.get(check_name="disk").status == "unknown"


@pytest.mark.django_db
def test_deadline_limits_the_timeout(monkeypatch):
    with pytest.raises(CheckerError, match="no time left"):
        run_checks(["memory"], deadline=time.monotonic() - 1)
    monkeypatch.setattr(psutil, "getloadavg", lambda: time.sleep(1) or (0.0, 0.0, 0.0))
    report = run_checks(["load"], deadline=time.monotonic() + 0.2)
    assert report["checks"]["load"]["status"] == "unknown"
    assert "timed out" in report["checks"]["load"]["message"]


@pytest.mark.django_db
def test_messages_are_redacted(fake):
    fake.set("virtual_memory", RuntimeError("failed with password=hunter2"))
    report = run_checks(["memory"])
    assert "hunter2" not in report["checks"]["memory"]["message"]
    assert "hunter2" not in CheckRun.objects.get().message
