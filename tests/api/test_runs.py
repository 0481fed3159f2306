"""/api/runs/: list with filters, detail in the run_pipeline --json shape, resume."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.orchestration.definition_orchestrator import DefinitionBasedOrchestrator
from apps.orchestration.models import PipelineDefinition, PipelineRun

from .conftest import notify_config

pytestmark = pytest.mark.django_db


def run_of(definition: PipelineDefinition, payload: dict, source: str = "api") -> int:
    return DefinitionBasedOrchestrator(definition).execute(payload, source=source)["run_id"]


def test_detail_is_the_run_pipeline_json_shape(api, stored_definition, capsys):
    call_command(
        "run_pipeline", "--definition", "pick-host", "--payload", '{"host": "h1"}', "--json"
    )
    cli = json.loads(capsys.readouterr().out)
    response = api.get(f"/api/runs/{cli['run_id']}")
    assert response.status_code == 200
    assert response.json() == cli


def test_list_filters_and_pages(api, stored_definition):
    other = PipelineDefinition.objects.create(name="other", config=stored_definition.config)
    ok = run_of(stored_definition, {"host": "a"})
    failed = run_of(stored_definition, {})
    from_cli = run_of(other, {"host": "b"}, source="cli")
    old = run_of(other, {"host": "c"})
    PipelineRun.objects.filter(pk=old).update(created_at=timezone.now() - timedelta(days=10))

    def ids(query: str) -> list[int]:
        body = api.get(f"/api/runs/{query}").json()
        assert body["count"] >= len(body["items"])
        return [item["run_id"] for item in body["items"]]

    assert ids("") == [from_cli, failed, ok, old]
    assert ids("?status=failed") == [failed]
    assert ids("?status=Completed") == [from_cli, ok, old]
    assert ids("?definition=other") == [from_cli, old]
    assert ids("?source=cli") == [from_cli]
    since = (timezone.now() - timedelta(days=1)).date().isoformat()
    assert ids(f"?since={since}") == [from_cli, failed, ok]
    assert ids("?since=2000-01-01T00:00:00Z&status=COMPLETED&definition=pick-host") == [ok]

    page = api.get("/api/runs/?limit=2&offset=1").json()
    assert page["count"] == 4
    assert [item["run_id"] for item in page["items"]] == [failed, ok]
    item = page["items"][0]
    assert item["status"] == "FAILED"
    assert item["definition"] == "pick-host"
    assert "nodes" not in item
    assert item["created_at"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("?status=sleeping", "invalid_status"),
        ("?since=yesterday", "invalid_since"),
        ("?since=2024-13-45", "invalid_since"),
        ("?limit=0", "invalid_request"),
        ("?limit=100000", "invalid_request"),
        ("?offset=-1", "invalid_request"),
        ("?limit=ten", "invalid_request"),
    ],
)
def test_list_bad_filters_are_422(api, query, code):
    response = api.get(f"/api/runs/{query}")
    assert response.status_code == 422
    assert response.json()["code"] == code


@pytest.mark.parametrize("run_id", ["999", "0", "99999999999999999999999"])
def test_unknown_run_is_404(api, run_id):
    for method, path in (("GET", f"/api/runs/{run_id}"), ("POST", f"/api/runs/{run_id}/resume")):
        response = api.call(method, path)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_resume_of_a_run_that_did_not_fail_is_409(api, stored_definition):
    run_id = run_of(stored_definition, {"host": "a"})
    response = api.post(f"/api/runs/{run_id}/resume")
    assert response.status_code == 409
    assert response.json()["code"] == "not_resumable"
    assert "COMPLETED" in response.json()["message"]


def test_resume_finishes_a_failed_run_from_its_failed_node(api, http_sink, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 1
    settings.NOTIFY_BACKOFF_S = 0
    definition = PipelineDefinition.objects.create(
        name="tell", config=notify_config(http_sink.url + "/hook")
    )
    http_sink.respond(500, "down")
    first = api.post("/api/definitions/tell/execute", {"payload": {"host": "web-01"}}).json()
    assert first["status"] == "FAILED"
    assert [n["status"] for n in first["nodes"]] == ["SUCCEEDED", "FAILED"]

    http_sink.respond(200, "ok")
    response = api.post(f"/api/runs/{first['run_id']}/resume")
    assert response.status_code == 200, response.content
    resumed = response.json()
    assert resumed["run_id"] == first["run_id"]
    assert resumed["status"] == "COMPLETED"
    assert [n["status"] for n in resumed["nodes"]] == ["SUCCEEDED", "SUCCEEDED"]
    assert len(http_sink.requests) == 2  # one failed send, one good one; the transform not rerun
    assert PipelineRun.objects.filter(definition=definition).count() == 1
