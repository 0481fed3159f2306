"""/api/definitions/: CRUD, validate, dry-run and execute against the real engine."""

import copy

import pytest

from apps.notify.models import Delivery
from apps.orchestration.models import PipelineDefinition, PipelineDefinitionRevision, PipelineRun

from .conftest import TRANSFORM_CONFIG, notify_config

pytestmark = pytest.mark.django_db

CYCLIC = {
    "version": "1",
    "nodes": [
        {"id": "a", "type": "transform", "config": {"mapping": {"x": "payload.x"}}, "next": "b"},
        {"id": "b", "type": "transform", "config": {"mapping": {"x": "payload.x"}}, "next": "a"},
    ],
}


def test_create_then_get_and_list(api):
    response = api.post(
        "/api/definitions/",
        {"name": "pick-host", "config": TRANSFORM_CONFIG, "description": "désc ✓"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "pick-host"
    assert body["version"] == 1
    assert body["is_active"] is True
    assert body["description"] == "désc ✓"
    assert body["revisions"] == []

    assert api.get("/api/definitions/pick-host").json()["config"] == TRANSFORM_CONFIG
    listing = api.get("/api/definitions/").json()
    assert listing["count"] == 1
    assert [item["name"] for item in listing["items"]] == ["pick-host"]


def test_list_is_paged_and_counts_all(api):
    for number in range(5):
        PipelineDefinition.objects.create(name=f"def-{number}", config=TRANSFORM_CONFIG)
    page = api.get("/api/definitions/?limit=2&offset=2").json()
    assert page["count"] == 5
    assert [item["name"] for item in page["items"]] == ["def-2", "def-3"]


def test_create_invalid_config_is_422_with_problems_and_stores_nothing(api):
    response = api.post("/api/definitions/", {"name": "loop", "config": CYCLIC})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_definition"
    codes = {problem["code"] for problem in body["problems"]}
    assert "cycle" in codes
    cycle = next(p for p in body["problems"] if p["code"] == "cycle")
    assert cycle["node"] == "a"
    assert cycle["path"] == "/nodes/0/next"
    assert set(cycle) == {"code", "node", "path", "message"}
    assert not PipelineDefinition.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "config": "not an object"},
        {"name": "x", "config": {"nodes": []}},
        {"name": "x", "config": {"nodes": [{"id": "a", "type": "nope"}]}},
    ],
)
def test_create_bad_configs_store_nothing(api, body):
    response = api.post("/api/definitions/", body)
    assert response.status_code == 422
    assert response.json()["problems"]
    assert not PipelineDefinition.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"config": TRANSFORM_CONFIG},  # no name
        {"name": "has space", "config": TRANSFORM_CONFIG},
        {"name": "x" * 101, "config": TRANSFORM_CONFIG},
        {"name": "x", "config": TRANSFORM_CONFIG, "surprise": 1},
        {"name": "x", "config": TRANSFORM_CONFIG, "priority": "high"},
        {"name": "x", "config": TRANSFORM_CONFIG, "match": {"colour": "red"}},
    ],
)
def test_create_bad_bodies_are_422(api, body):
    response = api.post("/api/definitions/", body)
    assert response.status_code == 422, response.content
    assert response.json()["code"] in {"invalid_request", "invalid_definition"}
    assert response.json()["message"]
    assert not PipelineDefinition.objects.exists()


def test_create_duplicate_name_is_409(api, stored_definition):
    response = api.post("/api/definitions/", {"name": "pick-host", "config": TRANSFORM_CONFIG})
    assert response.status_code == 409
    assert response.json()["code"] == "already_exists"
    assert PipelineDefinition.objects.count() == 1


def test_put_bumps_version_and_keeps_revision(api, stored_definition):
    changed = copy.deepcopy(TRANSFORM_CONFIG)
    changed["nodes"][0]["config"]["mapping"]["where"] = "payload.where"
    response = api.put("/api/definitions/pick-host", {"config": changed})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["version"] == 2
    assert body["revisions"] == [1]
    revision = PipelineDefinitionRevision.objects.get(definition=stored_definition, version=1)
    assert revision.config == TRANSFORM_CONFIG
    stored_definition.refresh_from_db()
    assert stored_definition.config == changed


def test_put_requires_config(api, stored_definition):
    response = api.put("/api/definitions/pick-host", {"description": "only this"})
    assert response.status_code == 422


def test_patch_changes_only_given_fields(api, stored_definition):
    response = api.patch("/api/definitions/pick-host", {"priority": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["priority"] == 5
    assert body["version"] == 1  # config unchanged: same version
    assert body["config"] == TRANSFORM_CONFIG


def test_update_with_invalid_config_is_422_and_keeps_old(api, stored_definition):
    response = api.patch("/api/definitions/pick-host", {"config": CYCLIC, "priority": 1})
    assert response.status_code == 422
    assert response.json()["problems"]
    stored_definition.refresh_from_db()
    assert stored_definition.config == TRANSFORM_CONFIG
    assert stored_definition.priority == 100
    assert stored_definition.version == 1
    assert not PipelineDefinitionRevision.objects.exists()


def test_update_cannot_rename_or_null_fields(api, stored_definition):
    assert api.patch("/api/definitions/pick-host", {"name": "other"}).json()["code"] == (
        "name_mismatch"
    )
    assert api.patch("/api/definitions/pick-host", {"priority": None}).status_code == 422
    stored_definition.refresh_from_db()
    assert stored_definition.name == "pick-host"


def test_unknown_definition_is_404_everywhere(api):
    for method, path in [
        ("GET", "/api/definitions/ghost"),
        ("PUT", "/api/definitions/ghost"),
        ("PATCH", "/api/definitions/ghost"),
        ("DELETE", "/api/definitions/ghost"),
        ("POST", "/api/definitions/ghost/validate"),
        ("POST", "/api/definitions/ghost/dry-run"),
        ("POST", "/api/definitions/ghost/execute"),
    ]:
        body = {"config": TRANSFORM_CONFIG} if method in {"PUT", "PATCH"} else None
        response = api.call(method, path, body)
        assert response.status_code == 404, (method, path)
        assert response.json()["code"] == "not_found"


def test_delete_deactivates_and_execute_is_then_409(api, stored_definition):
    response = api.delete("/api/definitions/pick-host")
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    stored_definition.refresh_from_db()
    assert stored_definition.is_active is False  # still stored

    for query in ("", "?async=1"):
        executed = api.post(f"/api/definitions/pick-host/execute{query}", {"payload": {}})
        assert executed.status_code == 409
        assert executed.json()["code"] == "definition_inactive"
    assert not PipelineRun.objects.exists()

    assert api.patch("/api/definitions/pick-host", {"is_active": True}).status_code == 200
    assert api.post(
        "/api/definitions/pick-host/execute", {"payload": {"host": "a"}}
    ).status_code == (200)


def test_validate_body_config_else_stored(api, stored_definition):
    stored = api.post("/api/definitions/pick-host/validate")
    assert stored.status_code == 200
    assert stored.json() == {"valid": True, "problems": []}

    given = api.post("/api/definitions/pick-host/validate", {"config": CYCLIC})
    assert given.status_code == 200
    assert given.json()["valid"] is False
    assert any(p["code"] == "cycle" for p in given.json()["problems"])

    not_object = api.post("/api/definitions/pick-host/validate", {"config": [1, 2]})
    assert not_object.json()["valid"] is False

    # The stored definition is not touched by validating another config.
    stored_definition.refresh_from_db()
    assert stored_definition.config == TRANSFORM_CONFIG


def test_validate_flags_stored_invalid_definition(api):
    PipelineDefinition.objects.create(name="broken", config=CYCLIC)
    body = api.post("/api/definitions/broken/validate", raw="").json()
    assert body["valid"] is False
    assert body["problems"][0]["path"].startswith("/nodes/")


def test_execute_sync_returns_run_result(api, stored_definition):
    response = api.post(
        "/api/definitions/pick-host/execute",
        {"payload": {"host": "web-01"}, "environment": "staging"},
    )
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["status"] == "COMPLETED"
    assert result["definition"] == "pick-host"
    assert result["source"] == "api"
    assert result["environment"] == "staging"
    assert result["nodes"][0]["output"] == {"host": "web-01"}
    run = PipelineRun.objects.get(pk=result["run_id"])
    assert run.trace_id == result["trace_id"]


def test_execute_sync_failed_run_is_200_with_failed_status(api, stored_definition):
    result = api.post("/api/definitions/pick-host/execute", {"payload": {}}).json()
    assert result["status"] == "FAILED"
    assert "payload.host" in result["error"]


@pytest.mark.parametrize("runner, queued", [("thread", 1), ("worker", 0)])
def test_execute_async_is_202_pending_then_runs(
    api, stored_definition, django_capture_on_commit_callbacks, settings, runner, queued
):
    """thread: dispatch() queues the run's thread for after commit; worker: nothing is queued,
    the run waits PENDING for `run_worker`."""
    from apps.orchestration.services import execute_run

    settings.PIPELINE_RUNNER = runner
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post(
            "/api/definitions/pick-host/execute?async=1",
            {"payload": {"host": "db-1"}, "trace_id": "my-trace-1"},
        )
    assert response.status_code == 202
    body = response.json()
    assert body == {"run_id": body["run_id"], "trace_id": "my-trace-1", "status": "PENDING"}
    assert len(callbacks) == queued
    assert api.get(f"/api/runs/{body['run_id']}").json()["status"] == "PENDING"

    execute_run(body["run_id"])  # what the queued callback does, on this thread
    done = api.get(f"/api/runs/{body['run_id']}").json()
    assert done["status"] == "COMPLETED"
    assert done["nodes"][0]["output"] == {"host": "db-1"}


@pytest.mark.parametrize(
    "body",
    [
        {"payload": "a string"},
        {"payload": {}, "source": "nowhere"},
        {"payload": {}, "environment": "has space"},
        {"payload": {}, "trace_id": "x" * 65},
        {"payload": {}, "extra": True},
    ],
)
def test_execute_bad_input_is_rejected_and_runs_nothing(api, stored_definition, body):
    response = api.post("/api/definitions/pick-host/execute", body)
    assert response.status_code == 422, response.content
    assert response.json()["code"] in {"invalid_request", "unknown_source"}
    assert not PipelineRun.objects.exists()


def test_execute_invalid_stored_definition_is_422(api):
    PipelineDefinition.objects.create(name="broken", config=CYCLIC)
    response = api.post("/api/definitions/broken/execute", {"payload": {}})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_definition"
    assert not PipelineRun.objects.exists()


def test_dry_run_renders_notifications_and_sends_nothing(api, http_sink):
    PipelineDefinition.objects.create(name="tell", config=notify_config(http_sink.url + "/hook"))
    response = api.post(
        "/api/definitions/tell/dry-run",
        {"payload": {"host": "web-01", "title": "Disk full on web-01"}, "source": "cli"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert [step["id"] for step in body["plan"]] == ["pick", "tell"]
    assert body["plan"][1]["after"] == ["pick"]
    assert len(body["notifications"]) == 1
    preview = body["notifications"][0]
    assert preview["node"] == "tell"
    assert preview["driver"] == "generic"
    assert "127.0.0.1" in preview["destination"]
    assert preview["title"]
    assert "web-01" in preview["title"] + preview["text"]
    assert http_sink.requests == []
    assert not PipelineRun.objects.exists()
    assert not Delivery.objects.exists()


def test_execute_notify_really_sends(api, http_sink, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 1
    PipelineDefinition.objects.create(name="tell", config=notify_config(http_sink.url + "/hook"))
    result = api.post(
        "/api/definitions/tell/execute", {"payload": {"host": "web-01", "title": "Disk full"}}
    ).json()
    assert result["status"] == "COMPLETED", result
    assert len(http_sink.requests) == 1
    assert Delivery.objects.count() == 1
