"""QA of issue 16: notification titles name the host once, and a resolved incident's notice
reads RESOLVED, both in the shipped alert-triage definition and in the default templates."""

import json
from pathlib import Path

import pytest

from apps.notify.services import preview

TRIAGE = Path(__file__).resolve().parents[2] / "pipelines" / "alert-triage.json"


def page_config():
    nodes = json.loads(TRIAGE.read_text())["nodes"]
    return next(node["config"] for node in nodes if node["id"] == "page")


def title(config, incident_title, host, status="open"):
    incident = {"id": "x", "title": incident_title, "host": host, "severity": "critical",
                "status": status}  # fmt: skip
    return preview(config, {"incident": incident})[0]["title"]


@pytest.mark.parametrize(
    ("config", "firing", "resolved"),
    [
        (page_config(), "CRITICAL: {}", "RESOLVED: {}"),
        ({"driver": "slack"}, "[CRITICAL] {}", "[RESOLVED] {}"),
    ],
    ids=["alert-triage", "default-template"],
)
@pytest.mark.django_db
def test_titles_name_the_host_once_and_a_resolved_incident_reads_resolved(config, firing, resolved):
    assert title(config, "DiskFull on web-05", "web-05") == firing.format("DiskFull on web-05")
    assert title(config, "DiskFull", "web-05") == firing.format("DiskFull on web-05")
    # web-1 is not named by a title that names web-10
    assert title(config, "DiskFull on web-10", "web-1") == firing.format(
        "DiskFull on web-10 on web-1"
    )
    assert title(config, "DiskFull on web-05", "web-05", status="resolved") == resolved.format(
        "DiskFull on web-05"
    )
