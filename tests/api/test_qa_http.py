"""Defects found by driving the served API as a client (QA pass); each test failed before its fix."""

import pytest
from django.test import Client

from apps.orchestration.models import PipelineDefinition

pytestmark = pytest.mark.django_db


def csrf_client() -> Client:
    """A client that enforces CSRF like the real middleware does for a cookie-less sender."""
    return Client(enforce_csrf_checks=True)


@pytest.mark.parametrize("path", ["/api/alerts/generic", "/api/nothing", "/api/runs"])
def test_post_to_an_unknown_api_path_is_a_json_404_not_the_csrf_page(path):
    response = csrf_client().post(path, data="{}", content_type="application/json")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("path", ["/api/openapi.json", "/api/docs"])
@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_docs_views_answer_other_methods_with_a_json_405(path, method):
    response = getattr(csrf_client(), method)(path, data="{}", content_type="application/json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert "GET" in response["Allow"]


def test_docs_views_still_serve_get():
    assert Client().get("/api/openapi.json").json()["openapi"].startswith("3.")
    assert Client().get("/api/docs").status_code == 200


@pytest.mark.parametrize("path", ["/api/definitions/", "/api/runs/"])
@pytest.mark.parametrize("offset", ["99999999999999999999", str(2**63)])
def test_an_offset_past_the_database_integer_is_a_422(api, path, offset):
    response = api.get(f"{path}?offset={offset}")
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "invalid_request"
    assert body["errors"][0]["loc"] == ["query", "offset"]


def test_the_largest_offset_is_an_empty_page(api, stored_definition):
    response = api.get(f"/api/definitions/?offset={2**63 - 1}")
    assert response.status_code == 200
    assert response.json() == {"items": [], "count": 1}


@pytest.mark.parametrize("since", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00%2B01:00"])
def test_a_since_outside_the_utc_range_is_a_422(api, since):
    response = api.get(f"/api/runs/?since={since}")
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "invalid_since"


def test_a_since_with_an_offset_inside_the_range_still_filters(api):
    response = api.get("/api/runs/?since=2025-03-01T10:00:00%2B05:00")
    assert response.status_code == 200
    assert response.json() == {"items": [], "count": 0}


def test_a_definition_rejected_by_csrf_free_post_is_not_stored(api):
    """Create through the path without its slash: a JSON 404 and nothing stored."""
    response = api.post("/api/definitions", {"name": "x", "config": {}})
    assert response.status_code == 404
    assert "did you mean /api/definitions/?" in response.json()["message"]
    assert not PipelineDefinition.objects.exists()


def test_post_to_metrics_is_a_plain_405_not_the_csrf_page():
    response = csrf_client().post("/metrics")
    assert response.status_code == 405
    assert b"CSRF" not in response.content


def test_patch_schema_does_not_offer_a_name(api):
    """Only the path's own name is accepted, which a schema cannot say (schemathesis ST202)."""
    schema = Client().get("/api/openapi.json").json()["components"]["schemas"]
    for name in ("DefinitionPatch", "DefinitionPut"):
        assert "name" not in schema[name]["properties"]


@pytest.mark.parametrize("field", ["description", "is_active", "priority"])
def test_patch_schema_does_not_offer_null_for_fields_that_reject_it(api, stored_definition, field):
    """The OpenAPI schema said these were nullable, but a null is a 422 (schemathesis ST202)."""
    schema = Client().get("/api/openapi.json").json()["components"]["schemas"]
    for name in ("DefinitionPatch", "DefinitionPut"):
        prop = schema[name]["properties"][field]
        assert "anyOf" not in prop and prop.get("type") != "null", (name, prop)
    response = api.patch("/api/definitions/pick-host", {field: None})
    assert response.status_code == 422
    stored_definition.refresh_from_db()
    assert stored_definition.description == "" and stored_definition.priority == 100


def test_patch_match_null_clears_the_match(api, stored_definition):
    stored_definition.match = {"source": "grafana"}
    stored_definition.save()
    schema = Client().get("/api/openapi.json").json()["components"]["schemas"]
    assert {"type": "null"} in schema["DefinitionPatch"]["properties"]["match"]["anyOf"]
    response = api.patch("/api/definitions/pick-host", {"match": None})
    assert response.status_code == 200
    assert response.json()["match"] is None


@pytest.mark.parametrize(
    "extra", [{"priority": "5"}, {"priority": False}, {"priority": 5.5}, {"is_active": "yes"}]
)
def test_a_wrong_json_type_is_a_422_and_nothing_is_stored(api, extra):
    """Lax coercion accepted "5", false and "yes" (schemathesis ST201)."""
    body = {"name": "typed", "config": {"version": "1", "nodes": [{"id": "a", "type": "ingest"}]}}
    response = api.post("/api/definitions/", {**body, **extra})
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["loc"] == ["body", next(iter(extra))]
    assert not PipelineDefinition.objects.exists()


def test_a_whole_float_is_an_integer_as_in_json_schema(api):
    """JSON Schema's "integer" includes 5.0 (schemathesis ST202 when it was refused)."""
    body = {"name": "whole", "config": {"version": "1", "nodes": [{"id": "a", "type": "ingest"}]}}
    response = api.post("/api/definitions/", {**body, "priority": 5.0})
    assert response.status_code == 201, response.content
    assert PipelineDefinition.objects.get(name="whole").priority == 5


def test_a_wrong_json_type_in_a_patch_is_a_422(api, stored_definition):
    assert api.patch("/api/definitions/pick-host", {"priority": "7"}).status_code == 422
    stored_definition.refresh_from_db()
    assert stored_definition.priority == 100


NUL_BODIES = [
    {"name": "nul1", "description": "d\u0000", "config": {"version": "1", "nodes": []}},
    {"name": "nul2", "config": {"version": "1", "description": "x\u0000", "nodes": []}},
]


@pytest.mark.parametrize("body", NUL_BODIES)
def test_a_nul_character_is_never_a_500(api, body):
    """PostgreSQL refuses NUL in text and JSON: that was a 500. Now a 400 that says where, on
    every database (the body is read by apps.common.jsonio, like the webhooks' bodies)."""
    body["config"]["nodes"] = [{"id": "a", "type": "ingest"}]
    response = api.post("/api/definitions/", body)
    assert response["Content-Type"].startswith("application/json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_json"
    assert "NUL character" in response.json()["message"]
    assert not PipelineDefinition.objects.exists()


@pytest.mark.parametrize("path", ["/api/runs/?definition=%00", "/api/definitions/a%00b"])
def test_a_nul_character_in_a_lookup_is_never_a_500(api, path):
    response = api.get(path)
    assert response.status_code in (200, 404, 422), response.content
    assert response["Content-Type"].startswith("application/json")


def test_an_unexpected_webhook_failure_is_a_json_500(make_client, monkeypatch):
    """The webhooks are plain Django views: an unexpected error was Django's HTML page."""
    from apps.api import webhooks as views

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "accept", broken)
    response = Client(raise_request_exception=False).post(
        "/api/alerts/generic/",
        data='{"name": "x", "host": "h"}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {make_client('ingest').raw_key}"},
    )
    assert response.status_code == 500
    assert response.json() == {
        "code": "internal_error",
        "message": "internal error; the server log has the details",
    }


def test_a_request_django_refuses_is_a_json_400_under_api():
    response = Client().get("/api/runs/", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


@pytest.mark.parametrize(
    ("since", "moment"),
    [
        # curl users leave "+" unencoded: it arrives as a space
        ("2025-03-01T10:00:00+05:00", "2025-03-01T05:00:00+00:00"),
        ("2025-03-01 10:00:00 05:00", "2025-03-01T05:00:00+00:00"),
        ("2025-03-01 10:00", "2025-03-01T10:00:00+00:00"),
    ],
)
def test_since_reads_an_offset_whose_plus_was_lost(since, moment):
    from datetime import datetime

    from apps.api.routers.runs import parse_since

    assert parse_since(since) == datetime.fromisoformat(moment)


@pytest.mark.parametrize("payload", [[1], ["web-01"], [[]]])
def test_execute_and_dry_run_refuse_a_payload_the_command_refuses(api, stored_definition, payload):
    """Was: the API stored and ran what run_pipeline refuses (a list of non-objects)."""
    from apps.orchestration.models import PipelineRun

    base = f"/api/definitions/{stored_definition.name}"
    for path in (f"{base}/execute", f"{base}/execute?async=1", f"{base}/dry-run"):
        response = api.post(path, {"payload": payload})
        assert response.status_code == 422, (path, response.content)
        assert "array of alert objects" in response.content.decode()
    assert PipelineRun.objects.count() == 0
