"""Errors are JSON with a stable code and a message: never HTML, never a traceback."""

import pytest

from apps.orchestration.models import PipelineDefinition

pytestmark = pytest.mark.django_db


def assert_json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in response.content.decode()
    assert "<html" not in response.content.decode().lower()
    return body


@pytest.mark.parametrize(
    "path",
    [
        "/api/",
        "/api/nothing",
        "/api/nothing/deeper/",
        "/api/definitions/a/b/c",
        "/api/runs/abc",
        "/api/ünïcode/✓",
        "/api/runs/1/resume/extra",
    ],
)
def test_unknown_api_paths_are_json_404(api, path):
    assert_json_error(api.get(path), 404, "not_found")


def test_unknown_api_path_without_a_key_is_json_404(client):
    assert_json_error(client.get("/api/whatever"), 404, "not_found")


def test_trailing_slash_mistake_gets_a_hint(api):
    body = assert_json_error(api.get("/api/runs"), 404, "not_found")
    assert "/api/runs/" in body["message"]


def test_alert_webhooks_still_own_their_path(client):
    # The webhook view answers (its own JSON error), not the ninja API or the catch-all.
    response = client.get("/api/alerts/")
    assert response.status_code == 405


def test_wrong_method_is_json_405(api):
    body = assert_json_error(api.delete("/api/runs/"), 405, "method_not_allowed")
    assert "GET" in body["message"]


@pytest.mark.parametrize("raw", ["{not json", "\xff\xfe", '{"name": '])
def test_invalid_json_is_400(api, raw):
    assert_json_error(api.post("/api/definitions/", raw=raw), 400, "invalid_json")
    assert not PipelineDefinition.objects.exists()


def test_wrong_types_are_422_with_locations(api):
    response = api.post("/api/definitions/", {"name": 5, "config": {}, "is_active": "maybe"})
    body = assert_json_error(response, 422, "invalid_request")
    locations = [error["loc"] for error in body["errors"]]
    assert ["body", "is_active"] in locations


def test_large_config_is_stored(api):
    nodes = [
        {
            "id": f"n{i}",
            "type": "transform",
            "config": {"mapping": {"x": "payload.x"}},
            **({"next": f"n{i + 1}"} if i < 499 else {}),
        }
        for i in range(500)
    ]
    response = api.post("/api/definitions/", {"name": "large", "config": {"nodes": nodes}})
    assert response.status_code == 201
    assert response.json()["config"]["nodes"][-1]["id"] == "n499"


def test_body_over_the_upload_limit_is_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    config = {"nodes": [], "description": "x" * 20_000}
    body = assert_json_error(
        api.post("/api/definitions/", {"name": "big", "config": config}), 413, "too_large"
    )
    assert "10000" in body["message"]
    assert not PipelineDefinition.objects.exists()


def test_unexpected_failure_is_json_500_without_details(api, stored_definition, monkeypatch):
    from apps.api.routers import definitions

    def broken(name):
        raise RuntimeError("secret internals")

    # The one place we force a bug: nothing real fails on demand.
    monkeypatch.setattr(definitions, "get_definition", broken)
    body = assert_json_error(api.get("/api/definitions/pick-host"), 500, "internal_error")
    assert "secret" not in body["message"]


def test_docs_and_schema_are_served(client):
    assert client.get("/api/docs").status_code == 200
    schema = client.get("/api/openapi.json").json()
    assert "/api/definitions/{name}/execute" in schema["paths"]
    assert "/api/runs/{run_id}/resume" in schema["paths"]
