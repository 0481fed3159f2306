"""Config validation, the analysis cache and the AnalysisRun records."""

import json
import subprocess
import sys
import time

import pytest

from apps.alerts.models import Alert
from apps.intelligence.models import AnalysisRun
from apps.intelligence.services import analyze, validate_intelligence_config
from tests.intelligence.helpers import healthy_context, incident_from_fixture
from tests.intelligence.test_providers import ANSWER, JSON, SPECS

OUTPUT_KEYS = [
    "summary",
    "probable_cause",
    "severity_assessment",
    "confidence",
    "recommendations",
    "evidence",
    "provider",
    "requested_provider",
    "model",
    "fallback_used",
    "fallback_reason",
    "tokens",
    "duration_ms",
]


def test_valid_config_has_no_problems():
    assert validate_intelligence_config({}) == []
    assert (
        validate_intelligence_config(
            {
                "provider": "openai",
                "model": "gpt-4o-mini",
                "temperature": 0,
                "fallback": False,
                "max_alerts": 5,
                "prompt_max_chars": 4000,
                "max_tokens": 512,
                "cache": False,
                "inspect": True,
            }
        )
        == []
    )


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        (
            {"provider": "gpt"},
            "unknown intelligence provider 'gpt' (known: local, openai, anthropic, ollama)",
        ),
        (
            {"provider": None},
            "unknown intelligence provider None (known: local, openai, anthropic, ollama)",
        ),
        ({"temperature": 2.5}, "intelligence 'temperature' must be a number from 0 to 2, got 2.5"),
        (
            {"temperature": True},
            "intelligence 'temperature' must be a number from 0 to 2, got True",
        ),
        (
            {"temperature": "0.2"},
            "intelligence 'temperature' must be a number from 0 to 2, got '0.2'",
        ),
        ({"fallback": "no"}, "intelligence 'fallback' must be true or false, got 'no'"),
        (
            {"max_alerts": 0},
            "intelligence 'max_alerts' must be a whole number from 1 to 500, got 0",
        ),
        (
            {"max_alerts": 2.5},
            "intelligence 'max_alerts' must be a whole number from 1 to 500, got 2.5",
        ),
        (
            {"prompt_max_chars": 10**9},
            "intelligence 'prompt_max_chars' must be a whole number from 500 to 200000, got 1000000000",
        ),
        (
            {"model": ""},
            "intelligence 'model' must be a non-empty string of at most 100 characters, got ''",
        ),
        (
            {"timeout": 3},
            "unknown intelligence config key 'timeout' (known: provider, model, temperature, fallback, max_alerts, prompt_max_chars, max_tokens, cache, inspect)",
        ),
    ],
)
def test_config_problems_are_one_sentence_each(config, problem):
    assert validate_intelligence_config(config) == [problem]


def test_config_that_is_not_an_object():
    assert validate_intelligence_config(["local"]) == [
        "intelligence config must be an object, got list"
    ]


@pytest.mark.django_db
def test_invalid_config_is_a_value_error_and_records_nothing():
    with pytest.raises(ValueError, match="unknown intelligence provider 'x'"):
        analyze(payload={"server": "web-01"}, config={"provider": "x"})
    assert AnalysisRun.objects.count() == 0


@pytest.mark.django_db
def test_output_has_exactly_the_issue_keys_and_is_json():
    output = analyze(payload={"server": "web-01"}, context=healthy_context())
    assert list(output) == OUTPUT_KEYS
    assert json.loads(json.dumps(output)) == output


@pytest.mark.django_db
def test_unknown_provider_in_settings_falls_back(settings):
    settings.INTELLIGENCE_DEFAULT_PROVIDER = "gpt5"
    output = analyze(payload={"server": "web-01"})
    assert output["fallback_reason"] == "gpt5: unknown provider (check INTELLIGENCE_PROVIDER)"
    assert output["provider"] == "local"


@pytest.mark.django_db
def test_cache_hit_skips_the_call_and_is_recorded(http_sink, settings):
    spec = SPECS["openai"]
    spec.configure(settings, http_sink.url)
    http_sink.respond(200, spec.body(json.dumps(ANSWER)), JSON)
    incident = incident_from_fixture("alertmanager/v4_firing_minimal_no_fingerprint.json")

    first = analyze(incident=incident, config={"provider": "openai"}, context=healthy_context())
    second = analyze(incident=incident, config={"provider": "openai"}, context=healthy_context())
    assert len(http_sink.requests) == 1
    assert second["summary"] == first["summary"] and second["provider"] == "openai"
    assert second["tokens"] == {"input": 0, "output": 0}
    runs = list(AnalysisRun.objects.order_by("id"))
    assert [r.status for r in runs] == ["succeeded", "cached"]
    assert runs[0].cache_key == runs[1].cache_key and len(runs[0].cache_key) == 64

    # Another model, or an alert changing state, is a different analysis.
    analyze(
        incident=incident,
        config={"provider": "openai", "model": "gpt-other"},
        context=healthy_context(),
    )
    Alert.objects.filter(incident=incident).update(severity="critical")
    analyze(incident=incident, config={"provider": "openai"}, context=healthy_context())
    assert len(http_sink.requests) == 3

    # cache: false always asks.
    analyze(
        incident=incident, config={"provider": "openai", "cache": False}, context=healthy_context()
    )
    assert len(http_sink.requests) == 4


@pytest.mark.django_db
def test_failures_are_not_cached(http_sink, settings):
    spec = SPECS["ollama"]
    spec.configure(settings, http_sink.url)
    http_sink.script((500, JSON, spec.error(500)), (200, JSON, spec.body(json.dumps(ANSWER))))
    assert analyze(alerts=[{"name": "x"}], config={"provider": "ollama"})["fallback_used"] is True
    assert analyze(alerts=[{"name": "x"}], config={"provider": "ollama"})["fallback_used"] is False
    assert [r.status for r in AnalysisRun.objects.order_by("id")] == ["fallback", "succeeded"]


@pytest.mark.django_db
def test_record_links_pipeline_run_and_redacts_output():
    from apps.orchestration.models import PipelineRun

    run = PipelineRun.objects.create()
    analyze(
        payload={"server": "web-01", "message": "disk full, password=hunter2"},
        pipeline_run=run,
        trace_id="trace-9",
    )
    record = AnalysisRun.objects.get()
    assert record.pipeline_run_id == run.pk and record.trace_id == "trace-9"
    assert "hunter2" not in json.dumps(record.output)


@pytest.mark.django_db
def test_alerts_may_be_a_queryset_or_a_huge_list():
    incident = incident_from_fixture("alertmanager/v4_firing_two_alerts.json")
    output = analyze(alerts=Alert.objects.filter(incident=incident))
    assert "'High CPU Temperature' x2 (critical)" in output["summary"]

    alerts = [{"name": "HighCPU", "status": "firing", "severity": "warning"}] * 5000
    start = time.perf_counter()
    output = analyze(alerts=alerts)
    assert time.perf_counter() - start < 1.0
    assert "'HighCPU' x500 (warning) (rules read 500 of 5000 alerts)" in output["summary"]


def test_importing_services_is_cheap():
    """It is on the CLI's startup path: no SDK, pydantic or psutil import of its own."""
    code = (
        "import django, os, sys; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings');"
        "django.setup(); before = set(sys.modules); import apps.intelligence.services;"
        "new = set(sys.modules) - before;"
        "print(','.join(sorted(m for m in new if m.split('.')[0] in "
        "('openai', 'anthropic', 'ollama', 'pydantic', 'psutil', 'httpx', 'httpx2'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_local_is_the_analyser_through_the_one_provider_registry():
    from apps.common.registry import UnknownName
    from apps.intelligence import analyser
    from apps.intelligence.providers import PROVIDERS, load

    assert PROVIDERS["local"] == "apps.intelligence.analyser"
    assert load("local") is analyser
    with pytest.raises(UnknownName, match=r"unknown intelligence provider 'gpt' \(known: local,"):
        load("gpt")
