import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache_and_fast_llm_settings(settings):
    cache.clear()
    settings.INTELLIGENCE_DEFAULT_PROVIDER = "local"
    settings.INTELLIGENCE_TIMEOUT_S = 2.0
    settings.INTELLIGENCE_MAX_RETRIES = 0
    settings.OPENAI_API_KEY = ""
    settings.ANTHROPIC_API_KEY = ""
    settings.OLLAMA_HOST = ""
    yield
    cache.clear()
