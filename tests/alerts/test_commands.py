"""create_api_key, route_test and explain_alert, called as Django commands."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from apps.alerts.models import Alert, AlertEvent, Incident, IncidentEvent
from apps.alerts.services import ingest
from apps.common.models import ApiKey, hash_key
from apps.orchestration.models import PipelineDefinition, PipelineRun
from tests.conftest import PAYLOADS, load_payload

pytestmark = pytest.mark.django_db


def run(*args, **options) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), no_color=True, **options)
    return out.getvalue()


# --- create_api_key -------------------------------------------------------------------------


def test_create_api_key_prints_the_key_alone_on_the_last_line():
    output = run("create_api_key", "alertmanager", "--scopes", "ingest,read")
    raw = output.strip().splitlines()[-1]
    assert raw.startswith("ipk_") and " " not in raw
    key = ApiKey.objects.get(name="alertmanager")
    assert key.key_hash == hash_key(raw)
    assert key.scopes == ["ingest", "read"]
    assert raw not in json.dumps(list(ApiKey.objects.values()), default=str)


def test_create_api_key_default_scope_is_ingest():
    run("create_api_key", "k")
    assert ApiKey.objects.get().scopes == ["ingest"]


def test_create_api_key_quiet_prints_only_the_key():
    output = run("create_api_key", "k", verbosity=0)
    assert output.strip().startswith("ipk_") and len(output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dup"], "already exists"),
        (["x", "--scopes", "ingest,admin"], "unknown scope(s) admin"),
        (["x", "--scopes", ","], "unknown scope(s) (none given)"),
        (["   "], "NAME must be 1 to 100 characters"),
        (["n" * 101], "NAME must be 1 to 100 characters"),
    ],
)
def test_create_api_key_errors_are_one_line(args, message):
    ApiKey.create_key("dup", ["ingest"])
    with pytest.raises(CommandError) as info:
        run("create_api_key", *args)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert ApiKey.objects.count() == 1


# --- route_test -----------------------------------------------------------------------------


def all_rows() -> dict[str, int]:
    return {
        m.__name__: m.objects.count()
        for m in (Alert, Incident, AlertEvent, IncidentEvent, PipelineRun, PipelineDefinition)
    }


def test_route_test_prints_each_alert_and_its_definition_writing_nothing():
    PipelineDefinition.objects.create(
        name="grafana-critical", match={"source": "grafana", "severity": ["critical"]},
        priority=5, config={},
    )  # fmt: skip
    before = all_rows()
    path = PAYLOADS / "grafana/unified_mixed_firing_resolved.json"
    output = run("route_test", "--source", "grafana", "--file", str(path))
    assert all_rows() == before
    lines = output.strip().splitlines()
    assert lines[0].startswith("source: grafana, 3 alert(s), 1 definition(s)")
    assert len(lines) == 4
    assert all("->" in line for line in lines[1:])
    arrows = {line.index("->") for line in lines[1:]}
    assert len(arrows) == 1  # aligned


def test_route_test_names_the_matching_definition(tmp_path):
    PipelineDefinition.objects.create(
        name="db-team", match={"labels": {"host": "web-01"}}, priority=5, config={}
    )
    path = PAYLOADS / "alertmanager/v4_firing_two_alerts.json"
    output = run("route_test", "--file", str(path), verbosity=2)
    assert output.count("->  db-team") == 2
    assert "db-team (priority 5): matches" in output


def test_route_test_falls_back_to_standard():
    path = PAYLOADS / "zabbix/problem_average.json"
    output = run("route_test", "--file", str(path))
    assert "->  standard (built-in)" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--file", "/nonexistent/x.json"], "no such file"),
        (["--file", "BADJSON"], "is not valid JSON"),
        (["--file", "UNCLAIMED"], "no vendor recognises this payload"),
        (["--file", "AM", "--source", "grafana"], "not a grafana payload"),
        (["--file", "AM", "--source", "nagios"], "unknown source 'nagios'"),
        (["--file", "BINARY"], "cannot read"),
    ],
)
def test_route_test_errors(tmp_path, args, message):
    files = {
        "BADJSON": tmp_path / "bad.json",
        "UNCLAIMED": tmp_path / "unclaimed.json",
        "AM": PAYLOADS / "alertmanager/v4_firing_two_alerts.json",
        "BINARY": tmp_path / "binary.json",
    }
    files["BADJSON"].write_text("{nope")
    files["UNCLAIMED"].write_text('{"hello": "world"}')
    files["BINARY"].write_bytes(b"\xff\xfe\x00")
    args = [str(files.get(arg, arg)) for arg in args]
    with pytest.raises(CommandError, match=message):
        run("route_test", *args)


# --- explain_alert --------------------------------------------------------------------------


def test_explain_alert_says_fingerprint_group_key_and_why_it_joined():
    ingest(load_payload("alertmanager/v4_firing_two_alerts.json"))
    first, second = Alert.objects.order_by("id")
    incident = Incident.objects.get()
    out_first = run("explain_alert", str(first.pk))
    assert "fingerprint from  fingerprint" in out_first
    assert "group key         name=High CPU Temperature|host=web-01" in out_first
    assert f"opened incident #{incident.pk}: no open or acknowledged incident" in out_first
    ingest({"name": "High CPU Temperature", "host": "web-01", "status": "firing"}, "generic")
    joined = Alert.objects.get(source="generic")
    out_joined = run("explain_alert", str(joined.pk))
    assert f"joined incident #{incident.pk}: it was open with the same group key" in out_joined
    assert "fingerprint from  name, host" in out_joined
    assert second.pk


def test_explain_alert_for_an_alert_that_joined_nothing():
    ingest({"name": "x", "host": "h", "status": "resolved"}, "generic")
    output = run("explain_alert", str(Alert.objects.get().pk))
    assert "not grouped: it arrived resolved" in output
    assert "incident          none" in output


def test_explain_alert_notes_a_changed_group_by(settings):
    ingest({"name": "x", "host": "h", "status": "firing"}, "generic")
    settings.INCIDENT_GROUP_BY = ["name"]
    output = run("explain_alert", str(Alert.objects.get().pk))
    assert "group key now" in output and "name=x (INCIDENT_GROUP_BY changed since)" in output


@pytest.mark.parametrize(("arg", "message"), [("abc", "must be a number"), ("999", "no alert")])
def test_explain_alert_errors(arg, message):
    with pytest.raises(CommandError, match=message):
        run("explain_alert", arg)
