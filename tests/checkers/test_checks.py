"""Every status of every check with psutil faked, then each check for real on this machine."""

import os
import shutil
import time

import psutil
import pytest

from apps.checkers.checks import CHECKS, STATUSES, Check, check_class
from apps.checkers.checks.base import coerce_option, worst_status


def make(name: str, **options) -> Check:
    check, problems = check_class(name).configure(options)
    assert check is not None, problems
    return check


def test_registry_names_every_check():
    assert list(CHECKS) == ["cpu", "memory", "swap", "load", "disk", "network", "process", "uptime"]
    for name in CHECKS:
        cls = check_class(name)
        assert cls.name == name
        assert {"warning", "critical"} <= set(cls.option_names())


# --- faked psutil: every status of every check ----------------------------------------------


@pytest.mark.parametrize(
    ("busy", "iowait", "status"),
    [(10, 0, "ok"), (85, 0, "warning"), (97, 0, "critical"), (50, 45, "ok")],
)
def test_cpu_statuses(fake, busy, iowait, status):
    fake.cpu(busy, iowait)
    result = make("cpu", interval_s=0.01).run()
    assert result.status == status
    assert result.metrics["percent"] == busy
    assert result.metrics["iowait_percent"] == iowait
    assert f"CPU {busy:.1f}% busy" in result.message


def test_cpu_unknown_when_psutil_fails(fake):
    fake.set("cpu_times", PermissionError("/proc/stat unreadable"))
    result = make("cpu", interval_s=0.01).run()
    assert result.status == "unknown"
    assert "PermissionError: /proc/stat unreadable" in result.message


def test_cpu_unknown_when_no_time_elapsed(fake):
    fake.set("cpu_times", psutil._ntuples.scputimes(*[1.0] * 10))
    assert make("cpu", interval_s=0.01).run().status == "unknown"


@pytest.mark.parametrize(("percent", "status"), [(50, "ok"), (90, "warning"), (97, "critical")])
def test_memory_statuses(fake, percent, status):
    fake.memory(percent)
    result = make("memory").run()
    assert (result.status, result.metrics["percent"]) == (status, percent)
    assert result.metrics["total_bytes"] == 16 * 2**30


def test_memory_unknown(fake):
    fake.set("virtual_memory", OSError("no /proc/meminfo"))
    assert make("memory").run().status == "unknown"


@pytest.mark.parametrize(("percent", "status"), [(10, "ok"), (60, "warning"), (90, "critical")])
def test_swap_statuses(fake, percent, status):
    fake.swap(percent)
    assert make("swap").run().status == status


def test_swap_absent_is_ok(fake):
    fake.swap(0, total=0)
    result = make("swap").run()
    assert (result.status, result.message) == ("ok", "no swap configured")


def test_swap_unknown(fake):
    fake.set("swap_memory", RuntimeError("boom"))
    assert make("swap").run().status == "unknown"


@pytest.mark.parametrize(
    ("averages", "status"),
    [((0.5, 1.0, 1.0), "ok"), ((9.0, 4.0, 1.0), "warning"), ((0.1, 8.0, 9.0), "critical")],
)
def test_load_statuses_per_core_on_5_min(fake, averages, status):
    fake.load(*averages, cores=2)
    result = make("load").run()
    assert result.status == status
    assert result.metrics["per_core"] == averages[1] / 2


def test_load_period_option_picks_the_average(fake):
    fake.load(9.0, 1.0, 1.0, cores=2)
    assert make("load", period=1).run().status == "critical"
    assert make("load", period=15).run().status == "ok"


def test_load_unknown(fake):
    fake.set("getloadavg", OSError("no loadavg"))
    assert make("load").run().status == "unknown"


@pytest.mark.parametrize(
    ("space", "inode", "status"),
    [(40, 5, "ok"), (85, 5, "warning"), (95, 5, "critical"), (40, 92, "critical")],
)
def test_disk_statuses_space_and_inodes(fake, space, inode, status):
    fake.disk(space, inode)
    result = make("disk", paths=["/"]).run()
    assert result.status == status
    measured = result.metrics["paths"]["/"]
    assert (measured["percent"], measured["inodes_percent"]) == (space, inode)


def test_disk_missing_path_is_unknown_and_worst_path_wins(fake):
    fake.disk(85)
    result = make("disk", paths=["/", "/no/such/dir"]).run()
    assert result.status == "warning"  # the fake answers for every path
    fake.set("disk_usage", FileNotFoundError(2, "No such file or directory"))
    result = make("disk", paths=["/", "/no/such/dir"]).run()
    assert result.status == "unknown"
    assert "No such file or directory" in result.message


def test_disk_bad_path_is_unknown_for_that_path_only():
    result = make("disk", paths=["/", "/a\x00b"]).run()
    assert result.status == "unknown"
    assert result.metrics["paths"]["/"]["status"] != "unknown"
    assert "null" in result.metrics["paths"]["/a\x00b"]["error"]


def test_disk_without_inode_counts(fake, monkeypatch):
    fake.disk(50)
    monkeypatch.setattr(os, "statvfs", lambda p: os.statvfs_result((4096,) * 5 + (0,) * 5))
    result = make("disk", paths=["/"]).run()
    assert result.status == "ok"
    assert result.metrics["paths"]["/"]["inodes_percent"] is None


def test_disk_unknown_when_check_itself_breaks(fake):
    fake.set("disk_usage", RuntimeError("driver fault"))
    result = make("disk", paths=["/"]).run()
    assert result.status == "unknown"
    assert "driver fault" in result.message


def test_process_statuses(fake):
    fake.processes("nginx", "nginx", "postgres", "python3.11")
    ok = make("process", names=["nginx", "re:python3\\.\\d+"]).run()
    assert ok.status == "ok"
    assert ok.metrics["processes"] == {"nginx": 2, "re:python3\\.\\d+": 1}
    critical = make("process", names=["nginx", "redis-server"]).run()
    assert critical.status == "critical"
    assert "redis-server" in critical.message
    warning = make("process", names=["nginx", "redis-server"], warning=1, critical=2).run()
    assert warning.status == "warning"


def test_process_never_matches_substrings(fake):
    fake.processes("postgres", "nginx-worker")
    result = make("process", names=["post", "nginx", "re:ngin"]).run()
    assert result.metrics["processes"] == {"post": 0, "nginx": 0, "re:ngin": 0}
    assert result.status == "critical"


def test_process_unknown(fake):
    fake.set("process_iter", psutil.AccessDenied())
    assert make("process", names=["x"]).run().status == "unknown"


@pytest.mark.parametrize(
    ("minutes", "status"), [(5 * 1440, "ok"), (30, "warning"), (5, "critical")]
)
def test_uptime_statuses_lower_is_worse(fake, minutes, status):
    fake.uptime_minutes(minutes)
    result = make("uptime", critical=10).run()
    assert result.status == status
    assert abs(result.metrics["uptime_min"] - minutes) < 0.1


def test_uptime_unknown(fake):
    fake.set("boot_time", RuntimeError("no btime"))
    assert make("uptime").run().status == "unknown"


def test_network_statuses_with_real_sockets(settings, tcp_listener, closed_port):
    settings.CHECK_NETWORK_TARGETS = [tcp_listener, closed_port]  # the operator's: loopback ok
    ok = make("network", targets=[tcp_listener]).run()
    assert ok.status == "ok"
    assert ok.metrics["targets"][tcp_listener]["latency_ms"] >= 0
    half = make("network", targets=[tcp_listener, closed_port]).run()
    assert (half.status, half.metrics["reachable_percent"]) == ("warning", 50.0)
    assert closed_port in half.message
    down = make("network", targets=[closed_port]).run()
    assert down.status == "critical"


def test_network_unknown(settings, monkeypatch, tcp_listener):
    settings.OUTBOUND_ALLOW_PRIVATE = True
    from apps.checkers.checks import network

    def broken(*args, **kwargs):
        raise RuntimeError("no threads left")

    monkeypatch.setattr(network, "run_parallel", broken)
    assert make("network", targets=[tcp_listener]).run().status == "unknown"


def test_network_without_targets_sends_nothing(monkeypatch):
    import socket

    def no_socket(*args, **kwargs):
        raise AssertionError("network check opened a socket without targets")

    monkeypatch.setattr(socket, "socket", no_socket)
    monkeypatch.setattr(socket, "getaddrinfo", no_socket)
    result = make("network", targets=[]).run()
    assert (result.status, result.message) == ("ok", "no targets")


def test_network_refuses_metadata_address_without_connecting():
    result = make("network", targets=["169.254.169.254:80"], critical=None).run()
    assert result.status == "warning"
    assert "refused" in result.metrics["targets"]["169.254.169.254:80"]["error"]


def test_network_unresolvable_name_is_unreachable_not_a_crash():
    target = "x" * 70 + ".invalid:80"  # the IDNA codec refuses a 70-character label
    result = make("network", targets=[target]).run()
    assert result.status == "critical"
    assert "cannot resolve" in result.metrics["targets"][target]["error"]


# --- thresholds and options -----------------------------------------------------------------


def test_none_disables_a_threshold(fake):
    fake.memory(99)
    assert make("memory", critical="none", warning=None).run().status == "ok"
    assert make("memory", critical="none").run().status == "warning"


def test_settings_thresholds_are_defaults_and_options_win(fake, settings):
    fake.memory(50)
    settings.CHECK_THRESHOLDS = {"memory": {"warning": 40.0, "critical": None}}
    assert make("memory").run().status == "warning"
    assert make("memory", warning=60).run().status == "ok"


def test_settings_supply_list_defaults(settings, fake):
    settings.CHECK_PROCESS_NAMES = ["sshd"]
    settings.CHECK_DISK_PATHS = ["/", "/tmp"]
    assert make("process").names == ["sshd"]
    assert make("disk").paths == ["/", "/tmp"]


@pytest.mark.parametrize(
    ("name", "options", "expected"),
    [
        (
            "cpu",
            {"warn": 3},
            "unknown option 'warn' for check 'cpu' (known: critical, interval_s, warning)",
        ),
        (
            "cpu",
            {"warning": "high"},
            "check 'cpu' option 'warning' must be a number or none, got 'high'",
        ),
        ("cpu", {"warning": True}, "must be a number or none, got True"),
        ("cpu", {"warning": "nan"}, "must be a number or none"),
        ("cpu", {"warning": ""}, "must be a number or none, got ''"),
        ("cpu", {"critical": "1e309"}, "must be a number or none"),
        ("network", {"targets": ["h:1"] * 51}, "takes at most 50 targets, got 51"),
        ("cpu", {"warning": [1]}, "must be a number or none"),
        ("cpu", {"warning": 96}, "warning (96) must not be above critical (95)"),
        ("cpu", {"interval_s": 0}, "'interval_s' must be between 0.01 and 5"),
        ("uptime", {"warning": 5, "critical": 10}, "must not be below critical (10)"),
        ("load", {"period": 10}, "must be 1, 5 or 15"),
        ("load", {"period": 1.5}, "must be a whole number"),
        ("disk", {"paths": [1, "/"]}, "must be a list of non-empty strings"),
        ("disk", {"paths": 5}, "must be a list of non-empty strings"),
        ("network", {"targets": ["db"]}, "target 'db' must look like host:port"),
        ("network", {"targets": ["db:99999"]}, "target 'db:99999' must look like host:port"),
        ("network", {"timeout_s": -1}, "'timeout_s' must be between 0 and 30"),
        ("process", {"names": ["re:(["]}, "is not a regex"),
    ],
)
def test_bad_options_are_named(name, options, expected):
    check, problems = check_class(name).configure(options)
    assert check is None
    assert any(expected in problem for problem in problems), problems


def test_command_line_strings_are_coerced():
    assert coerce_option("80", float | None) == 80.0
    assert coerce_option("None", float | None) is None
    assert coerce_option(" 5 ", int) == 5
    assert coerce_option("/, /var ,", list[str]) == ["/", "/var"]
    assert coerce_option("[::1]:80", list[str]) == ["[::1]:80"]


def test_network_accepts_ipv6_targets():
    assert make("network", targets=["[::1]:5432", "db.internal:5432"]).targets


def test_worst_status_order():
    assert worst_status(["ok", "warning", "unknown"]) == "unknown"
    assert worst_status(["unknown", "critical", "warning"]) == "critical"
    assert worst_status([]) == "ok"


# --- for real on this machine ---------------------------------------------------------------


def test_cpu_for_real():
    result = make("cpu").run()
    assert result.status in ("ok", "warning", "critical")
    assert 0 <= result.metrics["percent"] <= 100
    assert result.metrics["cpu_count"] == psutil.cpu_count()


def test_memory_for_real():
    result = make("memory").run()
    assert result.status != "unknown"
    assert result.metrics["total_bytes"] == psutil.virtual_memory().total


def test_swap_for_real():
    result = make("swap").run()
    assert result.status != "unknown"
    assert result.metrics["total_bytes"] == psutil.swap_memory().total


def test_load_for_real():
    result = make("load").run()
    assert result.status != "unknown"
    assert abs(result.metrics["load1"] - os.getloadavg()[0]) < 0.5
    assert result.metrics["cpu_count"] == psutil.cpu_count()


def test_disk_for_real(tmp_path):
    result = make("disk", paths=["/", str(tmp_path)]).run()
    assert result.status in ("ok", "warning", "critical")
    real = shutil.disk_usage("/")
    assert result.metrics["paths"]["/"]["total_bytes"] == real.total
    missing = make("disk", paths=[str(tmp_path / "gone")]).run()
    assert missing.status == "unknown"


def test_network_for_real(settings, tcp_listener, closed_port):
    settings.CHECK_NETWORK_TARGETS = [tcp_listener, closed_port]
    result = make("network", targets=[tcp_listener, closed_port]).run()
    assert result.metrics["targets"][tcp_listener]["reachable"] is True
    assert result.metrics["targets"][closed_port]["error"] == "Connection refused"


def test_process_for_real():
    own_name = psutil.Process().name()
    result = make("process", names=[own_name, f"re:{own_name[:2]}.*"]).run()
    assert result.status == "ok", result.message
    assert result.metrics["processes"][own_name] >= 1
    missing = make("process", names=[own_name[:-1]]).run()  # a prefix is not a match
    assert missing.status == "critical"


def test_uptime_for_real():
    result = make("uptime").run()
    assert result.status != "unknown"
    expected = (time.time() - psutil.boot_time()) / 60
    assert abs(result.metrics["uptime_min"] - expected) < 1


def test_every_status_is_a_known_status():
    for name in CHECKS:
        assert make(name).run().status in STATUSES
