"""Measuring and grading apart: run() is evaluate(measure()), readings from elsewhere (an agent,
Prometheus node_exporter) are graded the same way, partial readings are unknown with a reason,
and the checks work without Django."""

import subprocess
import sys
from pathlib import Path

import pytest

from apps.checkers.checks import CHECKS, STATUSES, check_class

ROOT = Path(__file__).resolve().parents[2]


def make(name: str, **options):
    check, problems = check_class(name).configure(options)
    assert check is not None, problems
    return check


def test_run_is_evaluate_of_measure(fake):
    fake.cpu(85).memory(90).swap(60).load(4.0, 3.5, 1.0, cores=2).disk(85, 3)
    fake.uptime_minutes(30).processes("nginx", "nginx")
    options = {
        "cpu": {"interval_s": 0.01},
        "disk": {"paths": ["/"]},
        "process": {"names": ["nginx"]},
    }
    for name in CHECKS:
        check = make(name, **options.get(name, {}))
        readings = check.measure()
        result = check.evaluate(readings)
        assert result == check.run(), name
        assert set(readings) <= set(result.metrics), name  # readings are keyed like the metrics


@pytest.mark.parametrize(
    ("name", "readings", "status", "message"),
    [
        ("cpu", {"percent": 96.27}, "critical", "CPU 96.3% busy (critical at >= 95%)"),
        ("cpu", {"percent": "12.5"}, "ok", "CPU 12.5% busy"),
        ("memory", {"percent": 50}, "ok", "memory 50.0% used"),
        (
            "memory",
            {"total_bytes": 8 * 2**30, "available_bytes": 2**30},
            "warning",
            "memory 87.5% used, 1.0 GiB available (warning at >= 85%)",
        ),
        ("swap", {"percent": 55.0, "total_bytes": 2**30}, "warning", "swap 55.0% used"),
        ("swap", {"total_bytes": 0}, "ok", "no swap configured"),
        ("swap", {"total_bytes": 100, "used_bytes": 90}, "critical", "swap 90.0% used"),
        (
            "load",
            {"load1": 1.0, "load5": 7.0, "load15": 2.0, "cpu_count": 4},
            "warning",
            "load 1.00 7.00 2.00 on 4 CPUs, 1.75 per core over 5 min",
        ),
        ("load", {"per_core": 3.2}, "critical", "load 3.20 per core over 5 min"),
        (
            "disk",
            {"paths": {"/": {"percent": 40.0, "inodes_percent": 91.0}, "/var": {"percent": 12}}},
            "critical",
            "disk / 40.0% used, inodes 91.0% (critical at >= 90%), /var 12.0% used",
        ),
        ("uptime", {"uptime_s": 600}, "warning", "up 10 min (warning at < 60 min)"),
        (
            "uptime",
            {"uptime_s": 86400 * 3, "boot_time": "2025-01-01T00:00:00+00:00"},
            "ok",
            "up 3.0 days since 2025-01-01T00:00:00+00:00",
        ),
        (
            "network",
            {"targets": {"db:5432": {"reachable": True}, "cache:6379": {"error": "timed out"}}},
            "warning",
            "1/2 targets reachable; unreachable: cache:6379 (timed out) (warning at < 100 % reachable)",
        ),
        ("process", {"processes": {"nginx": 3, "cron": 0}}, "critical", "not running: cron"),
    ],
)
def test_readings_from_elsewhere_are_graded_like_local_ones(name, readings, status, message):
    result = make(name).evaluate(readings)
    assert result.status == status
    assert result.message.startswith(message), result.message


@pytest.mark.parametrize(
    ("name", "readings", "reason"),
    [
        ("cpu", {}, "cpu reading 'percent' is missing"),
        ("cpu", {"percent": "busy"}, "cpu reading 'percent' must be a number, got busy"),
        ("cpu", {"percent": None}, "cpu reading 'percent' is missing"),
        ("memory", {"available_bytes": 10}, "memory reading 'percent' is missing"),
        ("swap", {"used_bytes": 10}, "swap reading 'percent' is missing"),
        ("load", {"load1": 1.0, "cpu_count": 2}, "load reading 'load5' is missing"),
        ("load", {"load5": 1.0}, "load reading 'cpu_count' is missing"),
        ("load", {"load5": 1.0, "cpu_count": 0}, "'cpu_count' must be 1 or more, got 0"),
        ("load", {"per_core": 1.0, "period_min": 15}, "load reading 'load5' is missing"),
        ("disk", {}, "disk reading 'paths' is missing"),
        ("disk", {"paths": ["/"]}, "disk reading 'paths' must be an object"),
        ("uptime", {"boot_time": "x"}, "uptime reading 'uptime_s' (or 'uptime_min') is missing"),
        ("network", {}, "network reading 'targets' is missing (only the host itself"),
        ("process", {}, "process reading 'processes' is missing (only the host itself"),
        ("process", {"processes": {"a": "many"}}, "count of 'a' is not a number"),
    ],
)
def test_partial_readings_are_unknown_with_a_one_line_reason(name, readings, reason):
    result = make(name).evaluate(readings)
    assert result.status == "unknown"
    assert result.message.startswith(f"{name} reading ") and reason in result.message
    assert "\n" not in result.message


def test_a_path_without_readings_is_unknown_for_that_path_only():
    result = make("disk").evaluate({"paths": {"/": {"percent": 10}, "/data": {"inodes": 3}}})
    assert result.status == "unknown"
    assert result.metrics["paths"]["/"]["status"] == "ok"
    assert result.metrics["paths"]["/data"] == {
        "status": "unknown",
        "error": "reading 'percent' is missing",
    }


@pytest.mark.parametrize("readings", [None, "junk", [1, 2], {"error": "boom\n  at line 2"}])
def test_evaluate_never_raises(readings):
    for name in CHECKS:
        result = make(name).evaluate(readings)
        assert result.status == "unknown" and "\n" not in result.message


def test_a_measuring_error_is_graded_as_unknown_with_its_message():
    result = make("cpu").evaluate({"error": "no CPU time elapsed in a 0.2s sample"})
    assert (result.status, result.message, result.metrics) == (
        "unknown",
        "no CPU time elapsed in a 0.2s sample",
        {},
    )


def test_thresholds_apply_to_readings_from_elsewhere():
    assert make("memory", warning=40).evaluate({"percent": 50}).status == "warning"
    assert make("load", period=15).evaluate({"load15": 9, "cpu_count": 2}).status == "critical"
    assert make("load", period=1).evaluate({"per_core": 9, "period_min": 5}).status == "unknown"


def test_network_and_the_http_client_share_one_policy():
    from apps.checkers.checks import network
    from apps.common import http, netpolicy

    assert network.netpolicy is netpolicy
    assert http.netpolicy is netpolicy


NO_DJANGO = """
import sys

class NoDjango:
    def find_spec(self, name, path=None, target=None):
        if name == "django" or name.startswith("django."):
            raise ImportError("blocked: " + name)

sys.meta_path.insert(0, NoDjango())
try:
    import django
except ImportError:
    pass
else:
    raise SystemExit("the blocker does not block")

from apps.checkers.checks import CHECKS, STATUSES, check_class
from apps.checkers.checks.options import parse_options
import apps.common.retry, apps.common.registry, apps.common.text

assert parse_options(["disk.paths=/"]) == {"disk": {"paths": "/"}}
for name in CHECKS:
    check, problems = check_class(name).configure({})
    assert check is not None, problems
    result = check.run()
    assert result.status in STATUSES, (name, result)
    print(name, result.status)
assert check_class("disk")().paths == ["/"]  # the class default, not a setting
assert check_class("memory").configure({"warning": 10})[0].warning == 10
assert not [m for m in sys.modules if m.split(".")[0] == "django"]
"""


def test_checks_import_and_run_without_django():
    done = subprocess.run(
        [sys.executable, "-c", NO_DJANGO],
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert [line.split()[0] for line in done.stdout.splitlines()] == list(CHECKS)
    assert all(line.split()[1] in STATUSES for line in done.stdout.splitlines())
