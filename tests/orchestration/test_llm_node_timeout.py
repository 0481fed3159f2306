"""A node timeout that expires during the LLM call leads to the local fallback, not a failure."""

import pytest

from apps.orchestration.definition_orchestrator import DefinitionBasedOrchestrator
from apps.orchestration.models import PipelineDefinition

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, scope="module")
def sdk_loaded():
    """Import the SDK and its lazily loaded parts first: on a busy machine a cold import can take
    longer than the 1.5 s deadline this test is about."""
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(api_key="sk-warm-up", base_url="http://127.0.0.1:9/v1")
    assert client.chat.completions is not None


@pytest.mark.parametrize("fallback, status", [(True, "SUCCEEDED"), (False, "FAILED")])
def test_slow_llm_within_a_node_timeout(http_sink, settings, fallback, status):
    http_sink.delay_s = 5  # the "LLM" never answers within the node's 1.5 s
    settings.OPENAI_API_KEY = "sk-test-not-real-000000000000"
    settings.OPENAI_BASE_URL = f"{http_sink.url}/v1"
    settings.INTELLIGENCE_MAX_RETRIES = 0
    config = {
        "nodes": [
            {
                "id": "analyze",
                "type": "intelligence",
                "timeout_s": 1.5,
                "config": {"provider": "openai", "fallback": fallback, "inspect": False},
            }
        ]
    }
    definition = PipelineDefinition.objects.create(name=f"slow-{fallback}", config=config)
    result = DefinitionBasedOrchestrator(definition).execute({"server": "web-01"})
    node = result["nodes"][0]
    assert node["status"] == status, (node["error"], node["duration_ms"])
    if fallback:
        assert node["output"]["fallback_used"] is True
        assert node["output"]["provider"] == "local"
        assert "timed out" in node["output"]["fallback_reason"]
        assert node["duration_ms"] < 1500
