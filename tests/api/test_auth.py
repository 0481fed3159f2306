"""Every endpoint checks its scope: 401 without a valid key, 403 without the scope."""

import pytest

from apps.common.models import SCOPES, ApiKey
from apps.orchestration.models import PipelineDefinition, PipelineRun

from .conftest import TRANSFORM_CONFIG, ApiClient

pytestmark = pytest.mark.django_db

NEW = {"name": "new-one", "config": TRANSFORM_CONFIG}
CHANGED = {"config": {**TRANSFORM_CONFIG, "description": "changed"}}

# (method, path, body, scope it needs)
ENDPOINTS: list[tuple[str, str, dict | None, str]] = [
    ("GET", "/api/definitions/", None, "read"),
    ("POST", "/api/definitions/", NEW, "write"),
    ("GET", "/api/definitions/pick-host", None, "read"),
    ("PUT", "/api/definitions/pick-host", CHANGED, "write"),
    ("PATCH", "/api/definitions/pick-host", CHANGED, "write"),
    ("DELETE", "/api/definitions/pick-host", None, "write"),
    ("POST", "/api/definitions/pick-host/validate", None, "read"),
    ("POST", "/api/definitions/pick-host/dry-run", {"payload": {"host": "a"}}, "execute"),
    ("POST", "/api/definitions/pick-host/execute", {"payload": {"host": "a"}}, "execute"),
    ("POST", "/api/definitions/pick-host/execute?async=1", {"payload": {}}, "execute"),
    ("GET", "/api/runs/", None, "read"),
    ("GET", "/api/runs/{run}", None, "read"),
    ("POST", "/api/runs/{run}/resume", None, "execute"),
]


@pytest.fixture
def failed_run(stored_definition) -> PipelineRun:
    from apps.orchestration.definition_orchestrator import DefinitionBasedOrchestrator

    result = DefinitionBasedOrchestrator(stored_definition).execute({}, source="api")
    assert result["status"] == "FAILED"
    return PipelineRun.objects.get(pk=result["run_id"])


def snapshot() -> tuple:
    definition = PipelineDefinition.objects.get(name="pick-host")
    return (
        PipelineDefinition.objects.count(),
        definition.version,
        definition.is_active,
        PipelineRun.objects.count(),
        list(PipelineRun.objects.values_list("status", "finished_at")),
    )


@pytest.mark.parametrize(("method", "path", "body", "scope"), ENDPOINTS)
def test_key_without_the_scope_gets_403_and_changes_nothing(
    make_client, failed_run, method, path, body, scope
):
    others = [s for s in SCOPES if s != scope]
    client = make_client(*others)
    before = snapshot()
    response = client.call(method, path.format(run=failed_run.pk), body)
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "missing_scope"
    assert scope in response.json()["message"]
    assert snapshot() == before


@pytest.mark.parametrize(("method", "path", "body", "scope"), ENDPOINTS)
def test_key_with_only_the_scope_is_let_in(make_client, failed_run, method, path, body, scope):
    client = make_client(scope)
    response = client.call(method, path.format(run=failed_run.pk), body)
    assert response.status_code not in (401, 403), response.content
    assert response.status_code < 400, response.content


@pytest.mark.parametrize(("method", "path", "body", "scope"), ENDPOINTS)
def test_no_key_or_bad_key_is_401(db, failed_run, method, path, body, scope):
    before = snapshot()
    for raw in (None, "ipk_not-a-real-key"):
        response = ApiClient(raw).call(method, path.format(run=failed_run.pk), body)
        assert response.status_code == 401, response.content
        assert response.json()["code"] in {"unauthenticated", "invalid_key"}
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert snapshot() == before


def test_deactivated_key_is_401(db):
    key, raw = ApiKey.create_key("old", list(SCOPES))
    assert ApiClient(raw).get("/api/definitions/").status_code == 200
    key.is_active = False
    key.save()
    response = ApiClient(raw).get("/api/definitions/")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_key"


def test_other_auth_schemes_are_401(db):
    _, raw = ApiKey.create_key("basic", list(SCOPES))
    client = ApiClient(None)
    for header in (f"Basic {raw}", raw, "Bearer", "Bearer "):
        response = client.client.get("/api/definitions/", headers={"Authorization": header})
        assert response.status_code == 401, header


def test_bearer_requests_need_no_csrf_token(db):
    import json

    from django.test import Client

    _, raw = ApiKey.create_key("csrf", ["write"])
    response = Client(enforce_csrf_checks=True).post(
        "/api/definitions/",
        data=json.dumps({"name": "csrf-free", "config": TRANSFORM_CONFIG}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 201, response.content
