"""/api/incidents: list and read with `read`, acknowledge and resolve with `write`."""

import pytest
from django.test import Client

from apps.alerts.models import IncidentEvent
from apps.alerts.services import ingest

pytestmark = pytest.mark.django_db


def incident(name: str = "DiskFull", host: str = "db-07", severity: str = "critical"):
    return ingest(
        {"alerts": [{"name": name, "host": host, "severity": severity}]}, "generic"
    ).incident


def test_list_is_worst_first_with_counts_and_filters(make_client):
    incident("Slow", "web-1", "warning")
    crit = incident()
    reader = make_client("read")
    body = reader.get("/api/incidents").json()
    assert [row["title"] for row in body["items"]] == ["DiskFull on db-07", "Slow on web-1"]
    assert body["count"] == 2 and body["by_severity"] == {"critical": 1, "warning": 1, "info": 0}
    row = body["items"][0]
    assert (row["id"], row["alert_count"], row["firing_count"]) == (crit.pk, 1, 1)
    assert row["last_delivery"] is None and row["silenced"] is None
    only = reader.get("/api/incidents?host=web-1").json()
    assert [r["host"] for r in only["items"]] == ["web-1"]
    bad = reader.get("/api/incidents?status=gone")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_filter"
    nul = reader.get("/api/incidents?host=db%00")  # PostgreSQL cannot compare it: refused first
    assert nul.status_code == 422 and "NUL" in nul.json()["message"]


def test_read_one_incident_with_its_timeline(make_client):
    target = incident()
    body = make_client("read").get(f"/api/incidents/{target.pk}").json()
    assert body["incident"]["title"] == "DiskFull on db-07"
    assert {entry["kind"] for entry in body["timeline"]} == {"alert", "status"}
    assert make_client("read").get("/api/incidents/999999").status_code == 404


def test_acknowledge_and_resolve_need_write_and_are_recorded(make_client):
    target = incident()
    reader = make_client("read")
    assert reader.post(f"/api/incidents/{target.pk}/ack").status_code == 403
    assert Client().get("/api/incidents").status_code == 401
    writer = make_client("write")
    acked = writer.post(f"/api/incidents/{target.pk}/ack", {"comment": "on it"})
    assert acked.status_code == 200
    assert acked.json()["status"] == "acknowledged" and acked.json()["acknowledged_at"]
    again = writer.post(f"/api/incidents/{target.pk}/ack")
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    resolved = writer.post(f"/api/incidents/{target.pk}/resolve", {"comment": "done"})
    assert resolved.json()["status"] == "resolved"
    events = IncidentEvent.objects.filter(incident=target, via="api").order_by("id")
    assert [(e.actor, e.to_status) for e in events] == [
        ("key:test-key-1", "acknowledged"),
        ("key:test-key-1", "resolved"),
    ]
    assert writer.post("/api/incidents/999999/resolve").status_code == 404


def test_the_endpoints_are_in_the_openapi_document():
    paths = Client().get("/api/openapi.json").json()["paths"]
    assert {"/api/incidents", "/api/incidents/{incident_id}",
            "/api/incidents/{incident_id}/ack", "/api/incidents/{incident_id}/resolve"} <= set(paths)  # fmt: skip
    assert "post" in paths["/api/incidents/{incident_id}/ack"]


def test_list_and_detail_queries_stay_bounded(make_client, django_assert_max_num_queries):
    from tests.console.seed import seed

    ids = seed(40, 200, active_every=2)
    reader = make_client("read")
    reader.get("/api/incidents")  # the key's last_used_at is written once, then not per request
    # +2 for the silenced marks with no silence or rule stored, +4 with some (below)
    with django_assert_max_num_queries(8):
        body = reader.get("/api/incidents?status=all&limit=500").json()
    assert body["count"] == 40 and all(r["analysis_summary"] for r in body["items"])
    with django_assert_max_num_queries(14):
        story = reader.get(f"/api/incidents/{ids[0]}").json()
    assert len(story["runs"]) == 5 and all(len(run["nodes"]) == 2 for run in story["runs"])


def test_silenced_and_inhibited_incidents_say_why_in_the_list_and_detail(
    make_client, django_assert_max_num_queries
):
    from apps.alerts import silences
    from apps.alerts.models import InhibitionRule

    quiet = incident("DiskFull", "db-07")
    down = incident("HostDown", "web-1")
    held = incident("Load", "web-1")
    loud = incident("Load", "web-2")
    silence = silences.create(["alertname=DiskFull"], comment="disk swap", duration="1h")
    InhibitionRule.objects.create(name="host-down", source_matchers=["alertname=HostDown"],
                                  target_matchers=["alertname!=HostDown"], equal=["host"])  # fmt: skip
    reader = make_client("read")
    reader.get("/api/incidents")
    with django_assert_max_num_queries(10):
        rows = {row["id"]: row["silenced"] for row in reader.get("/api/incidents").json()["items"]}
    assert rows[quiet.pk].startswith(f"silenced by silence #{silence.pk} (disk swap")
    assert "inhibited by alert 'HostDown' on web-1" in rows[held.pk]
    assert rows[down.pk] is None and rows[loud.pk] is None
    detail = reader.get(f"/api/incidents/{quiet.pk}").json()["incident"]
    assert detail["silenced"] == rows[quiet.pk]
    assert reader.get(f"/api/incidents/{loud.pk}").json()["incident"]["silenced"] is None
