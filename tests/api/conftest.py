"""API test helpers: keys with chosen scopes, a client that sends them, and definitions."""

import json
from typing import Any

import pytest
from django.test import Client

from apps.common.models import SCOPES, ApiKey
from apps.orchestration.models import PipelineDefinition

# A definition that runs in-process and fast: one pure transform node.
TRANSFORM_CONFIG = {
    "version": "1",
    "description": "pick the host",
    "nodes": [{"id": "pick", "type": "transform", "config": {"mapping": {"host": "payload.host"}}}],
}


def notify_config(url: str) -> dict[str, Any]:
    """transform -> notify through the generic webhook driver to `url`."""
    return {
        "version": "1",
        "nodes": [
            {
                "id": "pick",
                "type": "transform",
                "config": {"mapping": {"host": "payload.host"}},
                "next": "tell",
            },
            {"id": "tell", "type": "notify", "config": {"driver": "generic", "url": url}},
        ],
    }


class ApiClient:
    """Django's test client with a bearer key and JSON bodies."""

    def __init__(self, raw_key: str | None) -> None:
        self.client = Client()
        self.raw_key = raw_key

    def call(self, method: str, path: str, body: Any = None, *, raw: str | None = None, **extra):
        headers = {"Authorization": f"Bearer {self.raw_key}"} if self.raw_key else {}
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is None and method in {"POST", "PUT", "PATCH"}:
            data = ""  # an empty body, as curl -X POST sends
        kwargs: dict[str, Any] = {"headers": headers, **extra}
        if data is not None:
            kwargs |= {"data": data, "content_type": "application/json"}
        return getattr(self.client, method.lower())(path, **kwargs)

    def get(self, path: str, **extra):
        return self.call("GET", path, **extra)

    def post(self, path: str, body: Any = None, **extra):
        return self.call("POST", path, body, **extra)

    def put(self, path: str, body: Any = None, **extra):
        return self.call("PUT", path, body, **extra)

    def patch(self, path: str, body: Any = None, **extra):
        return self.call("PATCH", path, body, **extra)

    def delete(self, path: str, **extra):
        return self.call("DELETE", path, **extra)


@pytest.fixture
def make_client(db):
    counter = iter(range(1000))

    def make(*scopes: str) -> ApiClient:
        _, raw = ApiKey.create_key(f"test-key-{next(counter)}", list(scopes))
        return ApiClient(raw)

    return make


@pytest.fixture
def api(make_client) -> ApiClient:
    """A client whose key has every scope."""
    return make_client(*SCOPES)


@pytest.fixture
def stored_definition(db) -> PipelineDefinition:
    return PipelineDefinition.objects.create(name="pick-host", config=TRANSFORM_CONFIG)
