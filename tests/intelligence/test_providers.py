"""Each LLM provider through its real SDK against a local server speaking that API's wire format."""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from apps.intelligence.models import AnalysisRun
from apps.intelligence.services import AnalysisError, analyze
from tests.intelligence.helpers import context, incident_from_fixture

ANSWER = {
    "summary": "web-01 is out of memory: postgres holds most of it.",
    "probable_cause": "A postgres backend is leaking memory.",
    "severity_assessment": "critical",
    "confidence": 0.82,
    "recommendations": [
        {
            "title": "Restart the leaking backend",
            "detail": "pid 812 holds 1.5 GiB",
            "priority": "high",
            "commands": ["systemctl restart postgresql"],
        }
    ],
    "evidence": ["check memory: critical (96.4%)"],
}
JSON = {"Content-Type": "application/json"}


def openai_body(text: str) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1700000000,
            "model": "gpt-test",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": text},
                }
            ],
            "usage": {"prompt_tokens": 321, "completion_tokens": 54, "total_tokens": 375},
        }
    ).encode()


def anthropic_body(text: str) -> bytes:
    return json.dumps(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-test",
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 321, "output_tokens": 54},
        }
    ).encode()


def ollama_body(text: str) -> bytes:
    return json.dumps(
        {
            "model": "llama-test",
            "created_at": "2026-01-01T00:00:00Z",
            "message": {"role": "assistant", "content": text},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 321,
            "eval_count": 54,
        }
    ).encode()


def openai_error(status: int) -> bytes:
    return json.dumps(
        {"error": {"message": f"boom {status}", "type": "server_error", "code": None}}
    ).encode()


def anthropic_error(status: int) -> bytes:
    kind = "rate_limit_error" if status == 429 else "api_error"
    return json.dumps(
        {"type": "error", "error": {"type": kind, "message": f"boom {status}"}}
    ).encode()


def ollama_error(status: int) -> bytes:
    return json.dumps({"error": f"boom {status}"}).encode()


@dataclass
class Spec:
    name: str
    path: str
    body: Callable[[str], bytes]
    error: Callable[[int], bytes]
    configure: Callable[[Any, str], None]
    sent_prompt: Callable[[dict], str]  # the user prompt text out of the request body


def _openai(settings, url):
    settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL, settings.OPENAI_MODEL = (
        "sk-test-key",
        f"{url}/v1",
        "gpt-test",
    )


def _anthropic(settings, url):
    settings.ANTHROPIC_API_KEY, settings.ANTHROPIC_BASE_URL, settings.ANTHROPIC_MODEL = (
        "test-key",
        url,
        "claude-test",
    )


def _ollama(settings, url):
    settings.OLLAMA_HOST, settings.OLLAMA_MODEL = url, "llama-test"


SPECS = {
    "openai": Spec(
        "openai",
        "/v1/chat/completions",
        openai_body,
        openai_error,
        _openai,
        lambda body: body["messages"][1]["content"],
    ),
    "anthropic": Spec(
        "anthropic",
        "/v1/messages",
        anthropic_body,
        anthropic_error,
        _anthropic,
        lambda body: body["messages"][0]["content"],
    ),
    "ollama": Spec(
        "ollama",
        "/api/chat",
        ollama_body,
        ollama_error,
        _ollama,
        lambda body: body["messages"][1]["content"],
    ),
}
MEMORY_CONTEXT = context(
    memory=(
        "critical",
        {
            "percent": 96.4,
            "available_bytes": 2**30,
            "top_processes": [{"name": "postgres", "pid": 812, "rss_bytes": 1536 * 2**20}],
        },
    )
)


@pytest.fixture(params=list(SPECS))
def llm(request, http_sink, settings):
    spec = SPECS[request.param]
    spec.configure(settings, http_sink.url)
    return spec, http_sink


@pytest.fixture
def incident(db):
    return incident_from_fixture("alertmanager/v4_firing_minimal_no_fingerprint.json")


def _run(spec, incident, **config):
    return analyze(
        incident=incident,
        context=MEMORY_CONTEXT,
        config={"provider": spec.name, **config},
        trace_id="t-1",
    )


@pytest.mark.django_db
def test_good_answer(llm, incident):
    spec, sink = llm
    sink.respond(200, spec.body(json.dumps(ANSWER)), JSON)
    output = _run(spec, incident)
    assert output["provider"] == spec.name and output["fallback_used"] is False
    assert output["summary"] == ANSWER["summary"]
    assert output["recommendations"][0]["commands"] == ["systemctl restart postgresql"]
    assert output["tokens"] == {"input": 321, "output": 54}
    assert output["model"].endswith("-test")
    request = sink.requests[0]
    assert request.method == "POST" and request.path == spec.path
    prompt = spec.sent_prompt(request.json())
    assert "high_memory_load" in prompt and '"percent":96.4' in prompt and "postgres" in prompt
    run = AnalysisRun.objects.get()
    assert (run.status, run.provider, run.requested_provider) == ("succeeded", spec.name, spec.name)
    assert (run.input_tokens, run.output_tokens, run.trace_id) == (321, 54, "t-1")
    assert run.incident_id == incident.pk and run.output["summary"] == ANSWER["summary"]


@pytest.mark.django_db
def test_fenced_answer_with_a_lone_recommendation_is_repaired(llm, incident):
    spec, sink = llm
    answer = {**ANSWER, "recommendations": ANSWER["recommendations"][0]}
    sink.respond(200, spec.body("```json\n" + json.dumps(answer) + "\n```"), JSON)
    output = _run(spec, incident)
    assert output["fallback_used"] is False
    assert [r["title"] for r in output["recommendations"]] == ["Restart the leaking backend"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("The server has a memory problem, restart it.", "answer is not JSON"),
        (
            json.dumps({**ANSWER, "confidence": "very"}),
            "answer does not fit the schema: confidence",
        ),
    ],
    ids=["prose", "wrong-type"],
)
def test_malformed_answer_falls_back_to_local(llm, incident, answer, reason):
    spec, sink = llm
    sink.respond(200, spec.body(answer), JSON)
    output = _run(spec, incident)
    assert output["provider"] == "local" and output["requested_provider"] == spec.name
    assert output["fallback_used"] is True
    assert output["fallback_reason"].startswith(f"{spec.name}: {reason}")
    assert "postgres (pid 812, 1.5 GiB)" in output["probable_cause"]  # the local rules ran
    run = AnalysisRun.objects.get()
    assert (run.status, run.provider, run.requested_provider) == ("fallback", "local", spec.name)
    assert run.error == output["fallback_reason"]
    assert (run.input_tokens, run.output_tokens) == (321, 54)  # what the useless answer cost


@pytest.mark.django_db
def test_slow_answer_past_the_timeout_falls_back(llm, incident, settings):
    spec, sink = llm
    settings.INTELLIGENCE_TIMEOUT_S = 0.3
    sink.delay_s = 3.0
    sink.respond(200, spec.body(json.dumps(ANSWER)), JSON)
    start = time.monotonic()
    output = _run(spec, incident)
    elapsed = time.monotonic() - start
    assert output["fallback_used"] is True
    assert output["fallback_reason"] == f"{spec.name}: timed out after 0.3 s"
    assert elapsed < 2.0, elapsed  # did not wait for the 3 s answer


@pytest.mark.django_db
def test_node_deadline_during_the_call_falls_back(llm, incident, settings):
    spec, sink = llm
    settings.INTELLIGENCE_TIMEOUT_S = 20
    sink.delay_s = 1.5
    sink.respond(200, spec.body(json.dumps(ANSWER)), JSON)
    start = time.monotonic()
    output = analyze(
        incident=incident, config={"provider": spec.name}, deadline=time.monotonic() + 0.4
    )
    assert time.monotonic() - start < 1.2
    assert output["fallback_used"] is True
    assert "(the node deadline)" in output["fallback_reason"]


@pytest.mark.django_db
@pytest.mark.parametrize("status", [500, 429])
def test_server_errors_fall_back(llm, incident, status):
    spec, sink = llm
    sink.respond(status, spec.error(status), {**JSON, "Retry-After": "0"})
    output = _run(spec, incident)
    assert output["fallback_used"] is True
    expected = "rate limited" if status == 429 else f"boom {status}"
    assert output["fallback_reason"].startswith(f"{spec.name}: HTTP {status} ")
    assert expected in output["fallback_reason"]
    assert len(sink.requests) == 1  # INTELLIGENCE_MAX_RETRIES=0


@pytest.mark.django_db
def test_retries_are_bounded_and_can_succeed(llm, incident, settings):
    spec, sink = llm
    settings.INTELLIGENCE_MAX_RETRIES = 1
    sink.script(
        (429, {**JSON, "Retry-After": "0"}, spec.error(429)),
        (200, JSON, spec.body(json.dumps(ANSWER))),
    )
    assert _run(spec, incident)["fallback_used"] is False
    assert len(sink.requests) == 2

    sink.requests.clear()
    sink.respond(503, spec.error(503), {**JSON, "Retry-After": "0"})
    output = _run(spec, incident, cache=False)
    assert output["fallback_reason"].endswith("(after 2 attempts)")
    assert len(sink.requests) == 2


@pytest.mark.django_db
def test_fallback_false_raises(llm, incident):
    spec, sink = llm
    sink.respond(500, spec.error(500), JSON)
    with pytest.raises(AnalysisError) as info:
        _run(spec, incident, fallback=False)
    assert str(info.value).startswith(f"{spec.name}: HTTP 500")
    run = AnalysisRun.objects.get()
    assert (run.status, run.provider, run.error) == ("failed", spec.name, str(info.value))


@pytest.mark.django_db
def test_unconfigured_provider_falls_back_without_a_request(http_sink, incident):
    output = analyze(incident=incident, config={"provider": "anthropic"})
    assert output["fallback_reason"] == "anthropic: not configured: ANTHROPIC_API_KEY is not set"
    assert http_sink.requests == []


@pytest.mark.django_db
def test_deadline_already_passed_falls_back_without_a_request(llm, incident):
    spec, sink = llm
    output = analyze(
        incident=incident, config={"provider": spec.name}, deadline=time.monotonic() - 1
    )
    assert (
        output["fallback_reason"]
        == f"{spec.name}: the node deadline passed before the call could start"
    )
    assert sink.requests == []


@pytest.mark.django_db
def test_garbled_http_body_is_a_provider_failure(http_sink, settings, incident):
    _openai(settings, http_sink.url)
    http_sink.respond(200, b"<html>proxy error</html>", {"Content-Type": "text/html"})
    output = analyze(incident=incident, config={"provider": "openai"})
    assert output["fallback_used"] is True and output["provider"] == "local"


@pytest.mark.django_db
def test_secrets_are_redacted_before_they_leave(llm, settings):
    spec, sink = llm
    sink.respond(200, spec.body(json.dumps(ANSWER)), JSON)
    alerts = [
        {
            "name": "DiskFull",
            "status": "firing",
            "severity": "critical",
            "description": "db url postgres://app:hunter2@db:5432/x token=abcd1234efgh",
            "labels": {"api_key": "s3cr3t-value"},
            "annotations": {"auth": "Bearer abcdefghijklmnopqrst"},
        }
    ]
    analyze(alerts=alerts, config={"provider": spec.name})
    raw = sink.requests[0].body.decode()
    for secret in ("hunter2", "abcd1234efgh", "s3cr3t-value", "abcdefghijklmnopqrst"):
        assert secret not in raw
    assert "***" in raw


@pytest.mark.django_db
def test_prompt_is_capped_in_alerts_and_size(llm):
    spec, sink = llm
    sink.respond(200, spec.body(json.dumps(ANSWER)), JSON)
    alerts = [
        {
            "name": f"HighCPU-{n}",
            "status": "firing",
            "severity": "warning",
            "description": "ü" * 500,
        }
        for n in range(60)
    ]
    analyze(
        alerts=alerts, config={"provider": spec.name, "max_alerts": 10, "prompt_max_chars": 3000}
    )
    prompt = spec.sent_prompt(sink.requests[0].json())
    assert len(prompt) <= 3000
    assert "of 60, firing first" in prompt
    assert "HighCPU-0" in prompt and "HighCPU-10" not in prompt
