"""The local analyser: one row per incident kind, built from the real vendor payloads."""

import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from apps.intelligence.kinds import kinds_in, words
from apps.intelligence.models import AnalysisRun
from apps.intelligence.services import analyze
from tests.intelligence.helpers import context, healthy_context, incident_from_fixture


@dataclass
class Case:
    fixture: str
    severity: str
    cause_words: list[str]  # all must appear in probable_cause (case-insensitive)
    rec_words: list[str] = field(default_factory=list)  # all must appear in some recommendation
    context: dict[str, Any] | None = None
    not_in_summary: list[str] = field(default_factory=list)


CASES = {
    "cpu (New Relic 'High CPU')": Case(
        "newrelic/workflow_issue_created_default.json",
        "critical",
        ["cpu saturation"],
        ["top -b -n 1"],
    ),
    "cpu with numbers from the check": Case(
        "grafana/legacy_alerting_evalmatches_tags.json",
        "critical",
        ["cpu saturation", "97.3%"],
        ["97.3%", "ps -eo pid,comm,%cpu"],
        context=context(cpu=("critical", {"percent": 97.3, "iowait_percent": 1.0, "cpu_count": 2})),
    ),
    "cpu that is really iowait": Case(
        "generic/gcp_monitoring_incident_open.json",
        "warning",
        ["i/o", "63.0% iowait"],
        ["iostat"],
        context=context(cpu=("warning", {"percent": 88.0, "iowait_percent": 63.0, "cpu_count": 2})),
    ),
    "cpu percent quoted in the alert": Case(
        "generic/gcp_monitoring_incident_open.json",
        "warning",
        ["28.5%"],
        ["28.5%"],
    ),
    "memory (high_memory_load is not 'load')": Case(
        "alertmanager/v4_firing_minimal_no_fingerprint.json",
        "warning",
        ["high memory use", "23.3%"],
        ["ps -eo pid,comm,rss"],
        not_in_summary=["high load"],
    ),
    "memory with top processes from the check": Case(
        "alertmanager/v4_firing_minimal_no_fingerprint.json",
        "critical",
        ["96.4% used", "postgres (pid 812, 1.5 GiB)"],
        ["postgres (pid 812, 1.5 GiB)", "java (pid 4410, 800.0 MiB)", "1.0 GiB available"],
        context=context(
            memory=(
                "critical",
                {
                    "percent": 96.4,
                    "available_bytes": 2**30,
                    "top_processes": [
                        {"name": "postgres", "pid": 812, "rss_bytes": 1536 * 2**20},
                        {"name": "java", "pid": 4410, "rss_bytes": 800 * 2**20},
                    ],
                },
            )
        ),
    ),
    "swap": Case(
        "datadog/log_alert_triggered.json",
        "critical",
        ["swap 91.0% used"],
        ["swapon --show"],
        context=context(
            swap=("critical", {"percent": 91.0, "used_bytes": 3 * 2**30, "total_bytes": 2**32})
        ),
    ),
    "disk space (New Relic 'Storage on Host')": Case(
        "newrelic/workflow_issue_activated_custom.json",
        "critical",
        ["disk space"],
        ["df -h"],
    ),
    "disk space with the fullest mount": Case(
        "newrelic/workflow_issue_activated_custom.json",
        "critical",
        ["/var 97.5% full", "1.2 GiB free"],
        ["Free space on /var", "du -xh --max-depth=1 /var"],
        context=context(
            disk=(
                "critical",
                {
                    "paths": {
                        "/": {"percent": 60.0, "free_bytes": 20 * 2**30, "inodes_percent": 3.0},
                        "/var": {
                            "percent": 97.5,
                            "free_bytes": int(1.2 * 2**30),
                            "inodes_percent": 10.0,
                        },
                    }
                },
            )
        ),
    ),
    "inodes": Case(
        "datadog/log_alert_triggered_database.json",
        "critical",
        ["inode", "/srv", "98.0%"],
        ["du --inodes"],
        context=context(
            disk=(
                "critical",
                {
                    "paths": {
                        "/srv": {"percent": 40.0, "free_bytes": 50 * 2**30, "inodes_percent": 98.0},
                    }
                },
            )
        ),
        not_in_summary=["disk space"],
    ),
    "load with idle CPUs": Case(
        "datadog/log_alert_triggered_p2.json",
        "critical",
        ["blocked", "state d"],
        ["vmstat 1 5"],
        context=context(
            load=(
                "critical",
                {"load1": 9.1, "load5": 8.0, "load15": 6.0, "per_core": 4.0, "cpu_count": 2},
            ),
            cpu=("ok", {"percent": 12.0}),
        ),
    ),
    "process down": Case(
        "pagerduty/v3_incident_triggered.json",
        "critical",
        ["nginx", "not running"],
        ["systemctl status nginx", "journalctl -u nginx"],
        context=context(
            process=("critical", {"processes": {"nginx": 0, "sshd": 2}, "missing": 1, "checked": 2})
        ),
    ),
    "process down (a list of missing names)": Case(
        "pagerduty/v3_incident_triggered.json",
        "warning",
        ["redis-server"],
        ["systemctl status redis-server"],
        context=context(process=("ok", {"missing": ["redis-server"]})),
    ),
    "inodes flagged by the check below the rules' own threshold": Case(
        "datadog/log_alert_triggered_database.json",
        "warning",
        ["inode", "/var/spool", "85.0%"],
        ["df -i"],
        context=context(
            disk=(
                "warning",
                {
                    "paths": {
                        "/": {"status": "ok", "percent": 30.0, "inodes_percent": 4.0},
                        "/var/spool": {
                            "status": "warning",
                            "percent": 40.0,
                            "free_bytes": 9 * 2**30,
                            "inodes_percent": 85.0,
                        },
                    }
                },
            )
        ),
        not_in_summary=["disk space"],
    ),
    "network unreachable (Zabbix agent unreachable)": Case(
        "zabbix/problem_disaster.json",
        "critical",
        ["unreachable"],
        ["ping -c 3 www.example.com"],
    ),
    "network unreachable from the check": Case(
        "zabbix/problem_average.json",
        "critical",
        ["10.0.0.5:5432"],
        ["nc -vz -w 3 10.0.0.5 5432"],
        context=context(
            network=("critical", {"unreachable": [{"target": "10.0.0.5:5432", "error": "refused"}]})
        ),
    ),
    "host reboot": Case(
        "datadog/log_alert_triggered.json",
        "warning",
        ["restarted", "4 min"],
        ["journalctl -b -1"],
        context=context(
            uptime=("warning", {"uptime_min": 4.0, "boot_time": "2026-11-25T20:00:00+00:00"})
        ),
    ),
    "temperature, not CPU time": Case(
        "alertmanager/v4_firing_two_alerts.json",
        "critical",
        ["temperature"],
        ["sensors"],
        not_in_summary=["cpu saturation"],
    ),
}

RESOLVED = [
    "zabbix/recovery_ok.json",
    "alertmanager/v4_resolved_one_alert.json",
    "grafana/legacy_ok.json",
    "grafana/unified_resolved.json",
    "newrelic/classic_incident_closed.json",
    "newrelic/workflow_issue_closed_default.json",
    "generic/gcp_monitoring_incident_closed.json",
    "pagerduty/v3_incident_resolved.json",
]

UNRECOGNISED = [
    "datadog/log_alert_triggered.json",  # "Error monitor"
    "datadog/log_alert_triggered_p2.json",  # "Unauthorized access to API"
    "pagerduty/v3_incident_triggered.json",  # "Test Incident 3"
    "grafana/unified_firing.json",  # "Test alert"
]


def _recommendation_text(output: dict) -> str:
    return "\n".join(
        f"{r['title']} {r['detail']} {' '.join(r['commands'])}" for r in output["recommendations"]
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(CASES))
def test_local_analyser_recognises_each_kind(name):
    case = CASES[name]
    incident = incident_from_fixture(case.fixture)
    output = analyze(incident=incident, context=case.context, config={"inspect": False})
    assert output["provider"] == "local" and output["fallback_used"] is False
    assert output["severity_assessment"] == case.severity, output["summary"]
    cause = output["probable_cause"].lower()
    for word in case.cause_words:
        assert word.lower() in cause, (word, output["probable_cause"])
    recs = _recommendation_text(output)
    for word in case.rec_words:
        assert word in recs, (word, recs)
    for word in case.not_in_summary:
        assert word not in output["summary"].lower()
    assert output["evidence"], "the conclusion must name what it rests on"
    assert 0 < output["confidence"] <= 1
    if case.context:  # alert and check agreeing, or the check alone, is worth more than a keyword
        assert output["confidence"] >= 0.8


@pytest.mark.django_db
@pytest.mark.parametrize("fixture", RESOLVED)
def test_resolved_incidents_are_ok(fixture):
    incident = incident_from_fixture(fixture)
    assert incident.status == "resolved"
    output = analyze(incident=incident, context=healthy_context())
    assert output["severity_assessment"] == "ok"
    assert "resolved" in output["summary"]
    assert [r["priority"] for r in output["recommendations"]] == ["low"]


@pytest.mark.django_db
def test_resolved_incident_with_a_failing_check_still_reports_the_check():
    incident = incident_from_fixture("zabbix/recovery_ok.json")
    output = analyze(
        incident=incident,
        context=context(disk=("critical", {"paths": {"/": {"percent": 99.0, "free_bytes": 10}}})),
    )
    assert output["severity_assessment"] == "critical"
    assert "/ 99.0% full" in output["summary"] and "resolved" in output["summary"]


@pytest.mark.django_db
@pytest.mark.parametrize("fixture", UNRECOGNISED)
def test_alerts_no_rule_knows_are_reported_honestly(fixture):
    incident = incident_from_fixture(fixture)
    output = analyze(incident=incident, context=healthy_context())
    assert output["confidence"] <= 0.3
    assert "no rule recognises" in output["summary"]
    assert "application or a dependency" in output["summary"]
    assert output["probable_cause"].startswith("Not determined")
    assert output["severity_assessment"] == incident.severity


@pytest.mark.django_db
def test_healthy_host_with_a_plain_payload_is_ok():
    output = analyze(payload={"server": "web-01"}, context=healthy_context())
    assert output["severity_assessment"] == "ok"
    assert (
        output["summary"]
        == "web-01 looks healthy: 6 of 6 checks ok (cpu, disk, load, memory, swap, uptime)."
    )
    assert output["recommendations"] == []
    assert len(output["evidence"]) == 6


@pytest.mark.django_db
def test_unknown_checks_are_named_not_hidden():
    ctx = healthy_context()
    ctx["checks"]["process"] = {
        "status": "unknown",
        "message": "psutil access denied",
        "metrics": {},
    }
    output = analyze(payload={"server": "web-01"}, context=ctx)
    assert output["severity_assessment"] == "info"
    assert "could not check process" in output["summary"]
    assert "psutil access denied" in output["recommendations"][0]["detail"]


@pytest.mark.django_db
def test_payload_text_without_an_incident_is_analysed():
    output = analyze(
        payload={"server": "db-02", "message": "Filesystem /data is 96% full"}, context=None
    )
    assert output["severity_assessment"] == "warning"
    assert output["summary"].startswith("db-02: disk space.")
    assert "96.0%" in output["summary"]


@pytest.mark.django_db
def test_nothing_to_analyse_says_so():
    output = analyze()
    assert output["severity_assessment"] == "info"
    assert "nothing to analyse" in output["summary"]
    assert AnalysisRun.objects.get().status == "succeeded"


@pytest.mark.django_db
def test_odd_inputs_do_not_break_the_rules():
    ctx = {
        "checks": {
            "disk": {"status": "critical", "metrics": {"paths": ["not", "dicts"]}},
            "memory": "not a dict",
            "cpu": {"status": "warning", "metrics": None},
        },
        "host": "not a dict",
    }
    alerts = [
        {
            "name": "ÜberCPU 🔥 load average 12",
            "status": "firing",
            "severity": "critical",
            "labels": "nope",
            "annotations": None,
            "description": "x" * 100_000,
        }
    ]
    output = analyze(alerts=alerts, payload=["not", "a", "dict"], context=ctx)
    assert output["severity_assessment"] == "critical"
    assert output["summary"].startswith("CPU saturation, high load.")


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("high_memory_load", ["memory"]),
        ("HighMemoryUsage", ["memory"]),
        ("node_filesystem_avail_bytes low", ["disk"]),
        ("InstanceDown", ["network"]),
        ("KubePodCrashLooping", ["process"]),
        ("nginx service is not running", ["process"]),
        ("Host rebooted unexpectedly", ["reboot"]),
        ("Inodes almost exhausted on /var", ["inodes"]),
        ("Load average 12 on 4 cores", ["load"]),
        ("Swap usage above 80%", ["swap"]),
        ("CPUHigh", ["cpu"]),
        # substrings that must not count as words
        ("Programmatic downstream overloaded swapfile cpuset diskless uploading memorial", []),
        ("Unauthorized access to API", []),
        ("Error monitor", []),
    ],
)
def test_whole_words_not_substrings(text, kinds):
    assert kinds_in(text) == kinds, words(text)


@pytest.mark.django_db
def test_disk_look_names_the_largest_entries_of_the_flagged_mount(tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "app.log").write_bytes(b"x" * 300_000)
    (tmp_path / "logs" / "nested").mkdir()
    (tmp_path / "logs" / "nested" / "old.log").write_bytes(b"x" * 200_000)
    (tmp_path / "core.1234").write_bytes(b"x" * 100_000)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "blob").write_bytes(b"x" * 50_000)
    (tmp_path / "small.txt").write_bytes(b"x" * 10)
    ctx = context(
        disk=("critical", {"paths": {str(tmp_path): {"percent": 99.0, "free_bytes": 1000}}})
    )
    output = analyze(payload={"server": "localhost"}, context=ctx)
    detail = output["recommendations"][0]["detail"]
    assert f"Largest entries directly under {tmp_path}" in detail
    assert "logs 488.3 KiB" in detail and "core.1234 97.7 KiB" in detail
    assert detail.index("logs") < detail.index("core.1234") and "small.txt" not in detail
    assert "last written 0 min ago" in detail


@pytest.mark.django_db
def test_no_local_look_for_another_host(tmp_path):
    (tmp_path / "big").write_bytes(b"x" * 100_000)
    ctx = context(
        disk=("critical", {"paths": {str(tmp_path): {"percent": 99.0, "free_bytes": 1000}}})
    )
    output = analyze(payload={"server": "some-other-host.example.com"}, context=ctx)
    assert "Largest entries" not in output["recommendations"][0]["detail"]


@pytest.mark.django_db
def test_memory_without_top_processes_takes_a_bounded_psutil_look():
    import psutil

    ctx = context(memory=("critical", {"percent": 97.0, "available_bytes": 2**28}))
    output = analyze(payload={"server": "localhost"}, context=ctx)
    detail = output["recommendations"][0]["detail"]
    assert "Largest by resident memory:" in detail
    top = max(
        psutil.process_iter(["name", "memory_info"]),
        key=lambda p: p.info["memory_info"].rss if p.info["memory_info"] else 0,
    )
    assert f"pid {top.pid}," in detail
    cmdline = " ".join(psutil.Process(os.getpid()).cmdline())
    assert cmdline not in detail  # names and pids only, never command lines


@pytest.mark.django_db
def test_local_analysis_is_fast():
    incident = incident_from_fixture("alertmanager/v4_firing_three_alerts_grouped.json")
    ctx = healthy_context()
    analyze(incident=incident, context=ctx)  # warm imports
    timings = []
    for _ in range(30):
        start = time.process_time()  # CPU time: other work on a busy machine does not count
        analyze(incident=incident, context=ctx)
        timings.append((time.process_time() - start) * 1000)
    # Includes the alert query and the AnalysisRun insert (about 3 ms on the 2-core dev box).
    assert statistics.median(timings) < 50, sorted(timings)


@pytest.mark.django_db
def test_reads_the_real_context_checks_output(tmp_path):
    """The checkers app's own run_checks() output, with thresholds set so every check trips."""
    from apps.checkers.services import run_checks

    ctx = run_checks(
        ["process", "network", "disk", "uptime", "memory"],
        {
            "process": {"names": ["surely-not-running-xyz"]},
            "network": {"targets": ["127.0.0.1:1"], "timeout_s": 0.5},
            "disk": {"paths": [str(tmp_path)], "warning": 0.001, "critical": 0.002},
            "uptime": {"warning": 10**9},
            "memory": {"warning": 0.01, "critical": 0.02},
        },
    )
    output = analyze(payload={"server": "localhost"}, context=ctx, config={"inspect": True})
    summary, recs = output["summary"].lower(), _recommendation_text(output)
    assert output["severity_assessment"] == "critical"
    assert "process not running: surely-not-running-xyz" in summary
    assert "systemctl status surely-not-running-xyz" in recs
    assert "unreachable from this host: 127.0.0.1:1 (" in summary
    assert "nc -vz -w 3 127.0.0.1 1" in recs
    assert str(tmp_path).lower() in summary  # as disk space or inodes, whichever the check graded
    assert "host up only" in summary
    assert "Largest by resident memory:" in recs  # top processes from the bounded psutil look
