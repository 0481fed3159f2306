"""LLM retries against a real local server answering 429/503: never past the node deadline."""

import time

import pytest

from apps.intelligence.providers import load
from apps.intelligence.services import AnalysisError, analyze
from tests.intelligence.test_providers import JSON, SPECS

DEADLINE_S = 3.0


class TimedRequests(list):
    """The sink's request list, also noting when each request arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def append(self, item) -> None:
        self.times.append(time.monotonic())
        super().append(item)


@pytest.fixture(params=list(SPECS))
def llm(request, http_sink, settings):
    spec = SPECS[request.param]
    spec.configure(settings, http_sink.url)
    # The SDK's first import and first call (seconds of lazy imports) are not measured here.
    http_sink.respond(200, spec.body("{}"), JSON)
    load(spec.name).complete(
        system="s", user="u", model="m", temperature=0, max_tokens=16, timeout_s=10
    )
    settings.INTELLIGENCE_TIMEOUT_S = 20
    settings.INTELLIGENCE_MAX_RETRIES = 50  # only the deadline stops the retries
    http_sink.requests = TimedRequests()
    http_sink.delay_s = 0.05
    return spec, http_sink


def _analyze(spec, deadline, fallback):
    return analyze(
        alerts=[{"name": "HighMemory", "status": "firing", "severity": "critical"}],
        config={"provider": spec.name, "fallback": fallback, "cache": False},
        deadline=deadline,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "fallback"), [(429, False), (503, True)], ids=["429-no-fallback", "503-fallback"]
)
def test_retries_stop_inside_the_node_deadline(llm, status, fallback):
    spec, sink = llm
    sink.respond(status, spec.error(status), {**JSON, "Retry-After": "0"})
    deadline = time.monotonic() + DEADLINE_S
    if fallback:
        output = _analyze(spec, deadline, fallback)
        assert output["fallback_used"] is True and output["provider"] == "local"
        reason = output["fallback_reason"]
    else:
        with pytest.raises(AnalysisError) as info:
            _analyze(spec, deadline, fallback)
        reason = str(info.value)
    finished = time.monotonic()
    assert finished <= deadline, finished - deadline
    assert reason.startswith(f"{spec.name}: HTTP {status} ")
    assert 2 <= len(sink.requests) <= 3  # it retried after waits of 0.5 s then 1 s
    assert max(sink.requests.times) < deadline


@pytest.mark.django_db
@pytest.mark.parametrize("status", [429, 503])
# The ollama SDK's ResponseError carries no headers, so it never sees a Retry-After.
@pytest.mark.parametrize("llm", ["openai", "anthropic"], indirect=True)
def test_a_retry_after_beyond_the_deadline_is_not_waited_for(llm, status):
    spec, sink = llm
    sink.respond(status, spec.error(status), {**JSON, "Retry-After": "5"})
    deadline = time.monotonic() + DEADLINE_S
    output = _analyze(spec, deadline, True)
    assert time.monotonic() <= deadline  # no sleep that would reach it
    assert output["fallback_used"] is True
    assert output["fallback_reason"].startswith(f"{spec.name}: HTTP {status} ")
    assert len(sink.requests) == 1
