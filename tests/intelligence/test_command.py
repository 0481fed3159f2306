"""manage.py analyze_incident"""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.intelligence.models import AnalysisRun
from tests.intelligence.helpers import incident_from_fixture


def run(*args: str) -> str:
    out = StringIO()
    call_command("analyze_incident", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_prints_an_aligned_analysis():
    incident = incident_from_fixture("zabbix/problem_disaster.json")
    text = run(str(incident.pk), "--verbosity", "2")
    lines = text.splitlines()
    assert (
        lines[0]
        == f"Incident    #{incident.pk} Zabbix agent on www.example.com is unreachable for 5 minutes [open]"
    )
    assert lines[1].startswith("Provider    local  model rules")
    assert "Severity    CRITICAL" in text
    assert "Recommendations" in text and "$ ping -c 3 www.example.com" in text
    assert "Evidence" in text  # shown at verbosity 2
    assert AnalysisRun.objects.get().incident_id == incident.pk


@pytest.mark.django_db
def test_json_is_the_output_dict():
    incident = incident_from_fixture("zabbix/recovery_ok.json")
    data = json.loads(run(str(incident.pk), "--json"))
    assert data["severity_assessment"] == "ok"
    assert data["provider"] == "local" and data["fallback_used"] is False


@pytest.mark.django_db
def test_fallback_is_shown_as_such():
    incident = incident_from_fixture("zabbix/problem_average.json")
    text = run(str(incident.pk), "--provider", "openai")
    assert "Provider    local (fallback from openai)" in text
    assert "Fallback    openai: not configured: OPENAI_API_KEY is not set" in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["999999"], "incident 999999 does not exist"),
        (["abc"], "incident id must be a positive whole number, got 'abc'"),
        (["-5"], "incident id must be a positive whole number, got '-5'"),
        (["１２"], "incident id must be a positive whole number, got '１２'"),
        ([""], "incident id must be a positive whole number, got ''"),
        (["9" * 30], f"incident id must be a positive whole number, got '{'9' * 30}'"),
        (
            ["1", "--provider", "gpt"],
            "unknown intelligence provider 'gpt' (known: local, openai, anthropic, ollama)",
        ),
    ],
)
def test_bad_input_is_a_one_line_error(args, message):
    if args[0] == "1":
        args = [str(incident_from_fixture("zabbix/problem_average.json").pk), *args[1:]]
    with pytest.raises(CommandError) as info:
        run(*args)
    assert str(info.value) == message
    assert AnalysisRun.objects.count() == 0


@pytest.mark.django_db
def test_fallback_false_cannot_be_asked_from_the_command_but_failures_never_trace(
    http_sink, settings
):
    # The command always allows the fallback; a provider failure therefore still prints an analysis.
    settings.OLLAMA_HOST = http_sink.url
    http_sink.respond(500, b'{"error": "model not loaded"}', {"Content-Type": "application/json"})
    incident = incident_from_fixture("zabbix/problem_average.json")
    text = run(str(incident.pk), "--provider", "ollama")
    assert "Fallback    ollama: HTTP 500 model not loaded" in text
