"""Each figure for its own kind: the percentage beside the kind's word, or the check's metrics."""

import json

import pytest

from apps.intelligence.kinds import percents_by_kind
from apps.intelligence.services import analyze
from tests.intelligence.helpers import context


def _alert(description: str, name: str = "Alert", **extra) -> dict:
    return {
        "name": name,
        "status": "firing",
        "severity": "warning",
        "description": description,
        **extra,
    }


def _check_alert(check: str, description: str) -> dict:
    """As check_and_alert sends it: source 'checks', the check's name in the labels."""
    return _alert(
        description,
        name=f"{check} check",
        source="checks",
        labels={"check": check, "check_status": "warning"},
    )


@pytest.mark.parametrize(
    ("text", "figures"),
    [
        ("disk / 23.0% used, inodes 3.1%", {"disk": 23.0, "inodes": 3.1}),
        ("disk 40%, inodes 97%", {"disk": 40.0, "inodes": 97.0}),
        ("inodes 97% used on /srv, disk 40%", {"inodes": 97.0, "disk": 40.0}),
        ("memory 95% used, swap 10%", {"memory": 95.0, "swap": 10.0}),
        ("CPU usage exceeded threshold of 1% with a value of 28.5%", {"cpu": 28.5}),
        ("disk / 85.0% used, inodes 3.1% (warning at >= 80%)", {"disk": 85.0, "inodes": 3.1}),
        ("Filesystem /data is 96% full", {"disk": 96.0}),
        ("Error monitor at 90%", {}),
    ],
)
def test_each_percentage_belongs_to_the_kind_beside_it(text, figures):
    assert percents_by_kind(text) == figures


@pytest.mark.django_db
def test_disk_text_is_disk_at_its_own_figure_never_inodes_at_it():
    output = analyze(alerts=[_alert("disk / 23.0% used, inodes 3.1%", name="DiskUsage")])
    assert output["summary"].startswith("disk space. Low disk space at 23.0% reported by")
    text = json.dumps(output)
    assert "inode exhaustion at 23.0%" not in text
    assert "inode exhaustion" not in output["summary"]  # 3.1% of inodes is no finding


@pytest.mark.django_db
@pytest.mark.parametrize(
    "description", ["inodes 97% used on /srv, disk 40%", "disk 40%, inodes 97% on /srv"]
)
def test_inodes_alert_is_inodes_at_its_own_figure(description):
    output = analyze(alerts=[_alert(description, name="InodesAlmostExhausted")])
    assert output["summary"].startswith("inode exhaustion. Inode exhaustion at 97.0% reported")
    assert "40.0%" not in output["summary"] and "disk space" not in output["summary"]


@pytest.mark.django_db
def test_a_checks_alert_takes_its_figure_from_the_check_metrics():
    """The message was written when the alert fired; the context's metrics say what is now."""
    ctx = context(
        disk=("ok", {"paths": {"/": {"status": "ok", "percent": 31.0, "inodes_percent": 3.5}}})
    )
    alert = _check_alert("disk", "disk / 23.0% used, inodes 3.1% (warning at >= 20%)")
    output = analyze(alerts=[alert], context=ctx)
    assert "low disk space at 31.0% reported by alert 'disk check'" in output["summary"].lower()
    assert "23.0%" not in output["summary"] and "inode" not in output["summary"]


@pytest.mark.django_db
def test_a_checks_alert_flagged_for_inodes_is_inodes_from_the_metrics():
    ctx = context(
        disk=(
            "critical",
            {
                "paths": {
                    "/": {"status": "ok", "percent": 23.0, "inodes_percent": 3.1},
                    "/srv": {"status": "critical", "percent": 40.0, "inodes_percent": 97.0},
                }
            },
        )
    )
    alert = _check_alert("disk", "disk / 23.0% used, inodes 3.1%, /srv 40.0% used, inodes 97.0%")
    output = analyze(alerts=[alert], context=ctx)
    assert output["summary"].startswith("web-01: inode exhaustion. /srv has used 97.0% of its")
    assert "disk space" not in output["summary"]
    assert output["confidence"] == 0.9  # the alert and the check agree


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("disk / 85.0% used, inodes 3.1% (warning at >= 80%)", "low disk space at 85.0%"),
        ("disk /srv 40.0% used, inodes 97.0% (critical at >= 90%)", "inode exhaustion at 97.0%"),
    ],
)
def test_a_checks_alert_without_metrics_reads_the_check_message(description, expected):
    output = analyze(alerts=[_check_alert("disk", description)])
    summary = output["summary"].lower()
    assert expected in summary
    assert ("inode" in summary) == expected.startswith("inode")
    assert "80.0%" not in summary and "90.0%" not in summary  # limits are not figures


@pytest.mark.django_db
def test_a_figure_in_passing_does_not_make_a_finding():
    output = analyze(alerts=[_alert("HighLoad: load average 12, cpu 40%")])
    assert output["summary"].startswith("high load.")
    assert "CPU saturation" not in output["summary"]


def test_a_check_that_could_not_measure_is_not_read_as_a_failing_resource():
    from apps.intelligence.facts import gather
    from apps.intelligence.rules import detect

    alert = {
        "name": "disk check", "status": "firing", "severity": "warning", "source": "checks",
        "host": "web-07", "description": "disk /nonexistent: No such file or directory",
        "labels": {"check": "disk", "check_status": "unknown"}, "annotations": {},
    }  # fmt: skip
    assert detect(gather(alerts=[alert])) == []
