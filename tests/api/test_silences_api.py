"""/api/silences: scopes, add (one-off and recurring), list, expire, errors, OpenAPI."""

import pytest

from apps.alerts.models import Silence

from .conftest import ApiClient

pytestmark = pytest.mark.django_db

BODY = {"matchers": ["alertname=DiskFull", 'host=~"web-0[1-7]"'], "comment": "reboot",
        "duration": "2h"}  # fmt: skip


def test_read_scope_lists_and_write_scope_adds_and_expires(make_client):
    reader, writer = make_client("read"), make_client("write", "read")
    assert reader.post("/api/silences", BODY).status_code == 403
    created = writer.post("/api/silences", BODY)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["state"] == "active"
    assert body["matchers"] == 'alertname="DiskFull",host=~"web-0[1-7]"'
    listed = reader.get("/api/silences")
    assert [s["id"] for s in listed.json()] == [body["id"]]
    assert reader.get(f"/api/silences/{body['id']}").json()["comment"] == "reboot"
    assert reader.delete(f"/api/silences/{body['id']}").status_code == 403
    expired = writer.delete(f"/api/silences/{body['id']}")
    assert expired.status_code == 200 and expired.json()["state"] == "expired"
    assert expired.json()["expired_by"] == "test-key-1"  # the writer's key: who expired it
    assert writer.delete(f"/api/silences/{body['id']}").status_code == 409
    assert reader.get("/api/silences").json() == []
    assert len(reader.get("/api/silences?all=true").json()) == 1
    assert ApiClient(None).get("/api/silences").status_code == 401


def test_a_maintenance_window(make_client):
    writer = make_client("write")
    window = {"matchers": ["host=web-07"], "comment": "patching", "every": "0 2 * * SUN",
              "duration": "2h", "tz": "Europe/Berlin"}  # fmt: skip
    created = writer.post("/api/silences", window)
    assert created.status_code == 201, created.content
    assert created.json()["schedule"] == "0 2 * * SUN"
    assert created.json()["time_zone"] == "Europe/Berlin"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"matchers": []}, "at least one"),
        ({"matchers": ["host=~(("]}, "invalid regular expression"),
        ({"duration": None, "ends_at": "2030-01-01T00:00:00"}, "need a zone"),
        ({"every": "every sunday"}, "needs 5 fields"),
    ],
)
def test_bad_silences_are_422_with_one_line(make_client, change, message):
    response = make_client("write").post("/api/silences", BODY | change)
    assert response.status_code == 422
    assert message in response.json()["message"]
    assert not Silence.objects.exists()


def test_in_the_openapi_document(make_client):
    document = make_client("read").get("/api/openapi.json").json()
    assert {"get", "post"} <= set(document["paths"]["/api/silences"])
    assert "delete" in document["paths"]["/api/silences/{silence_id}"]
