"""QA pass on issue 15: a template variable the sender left unexpanded in a host or name
field ("$HOSTNAME", "{HOST.NAME}") is no value: never stored as the host, and noted."""

import pytest

from apps.alerts.hosts import host_name, resolve_host
from apps.alerts.models import Alert
from apps.alerts.services import IngestError, ingest
from apps.orchestration.nodes.base import NodeContext
from apps.orchestration.nodes.context import default_target

CASES = [
    ("datadog", {"alert_title": "CPU", "alert_transition": "Triggered", "hostname": "$HOSTNAME"},
     "hostname '$HOSTNAME' is an unexpanded template variable: no value"),
    ("datadog", {"alert_title": "CPU", "alert_transition": "Triggered", "tags": "host:$HOSTNAME"},
     "tag host '$HOSTNAME' is an unexpanded template variable: no value"),
    ("zabbix", {"trigger_name": "Disk", "host_name": "{HOST.NAME}", "event_value": "1"},
     "host_name '{HOST.NAME}' is an unexpanded template variable: no value"),
    ("zabbix", {"trigger_name": "Disk", "event_value": "1", "event_tags": "host:{HOST.NAME}"},
     "label host '{HOST.NAME}' is an unexpanded template variable: no value"),
    ("generic", {"name": "Disk", "host": "{{ host }}"},
     "host '{{ host }}' is an unexpanded template variable: no value"),
    ("generic", {"name": "$ALERT_TITLE", "title": "Disk"},
     "name '$ALERT_TITLE' is an unexpanded template variable: no value"),
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(("vendor", "body", "note"), CASES)
def test_an_unexpanded_host_or_name_is_missing_and_noted(settings, vendor, body, note):
    settings.INGEST_START_RUNS = False
    ingest(body, vendor)
    alert = Alert.objects.get()
    assert alert.host == ""
    assert alert.incident.host == ""
    assert "$" not in alert.name and "{" not in alert.name
    assert note in alert.annotations["parse_notes"]


@pytest.mark.django_db
def test_a_name_that_is_only_an_unexpanded_variable_is_refused_saying_so():
    with pytest.raises(IngestError) as error:
        ingest({"trigger_name": "{TRIGGER.NAME}", "event_value": "1"}, "zabbix")
    assert str(error.value) == (
        "zabbix payload has no trigger name (trigger_name, trigger or name); "
        "trigger_name '{TRIGGER.NAME}' is an unexpanded template variable"
    )
    assert Alert.objects.count() == 0


@pytest.mark.parametrize("raw", ["$HOSTNAME", "{HOST.NAME}", "{{ host }}", " {HOST.HOST} "])
def test_host_resolution_never_takes_an_unexpanded_variable(raw):
    assert host_name(raw) == ""
    assert resolve_host(raw, {"instance": raw, "host": "web-07:9100"}) == "web-07"


def test_the_context_node_does_not_measure_a_host_named_by_an_unexpanded_variable():
    ctx = NodeContext(
        node_id="context", node_type="context", payload={"host": "$HOSTNAME"}, run=None,
        trace_id="t", source="api", environment="test", definition_label="d", outputs={},
        statuses={}, node_types={},
    )  # fmt: skip
    assert default_target(ctx) == ""  # this machine's facts, said so: never "$hostname"


def test_the_analysis_never_names_an_unexpanded_host():
    from apps.intelligence.analyser import analyze
    from apps.intelligence.facts import gather

    payload = {"title": "CPU high", "hostname": "$HOSTNAME", "host": "{HOST.NAME}"}
    facts = gather(payload=payload, context=None)
    assert facts.host == ""
    summary = analyze(facts, inspect=False)["summary"]
    assert "CPU high" in summary
    assert "HOSTNAME" not in summary and "HOST.NAME" not in summary


def test_the_notification_never_names_an_unexpanded_host_or_title():
    from apps.notify.messages import build_model, normalise_context

    payload = {"title": "$ALERT_TITLE", "name": "CPU high", "host": "$HOSTNAME"}
    model = build_model(normalise_context({"payload": payload}), "trigger")
    assert (model["title"], model["host"]) == ("CPU high", "")


def test_a_notification_of_an_alert_that_names_no_host_names_none(settings):
    """Was: the hub's kernel hostname (`vm`) became the page's host ("Disk full on vm"), while
    the facts note said the alert names no host and called the hub HOST_NAME."""
    from apps.hosts.facts import hub_facts_note
    from apps.notify.messages import build_model, normalise_context
    from apps.notify.services import test_context

    settings.HOST_NAME = "hub-1"
    hub_facts = {"host": "hub-1", "available": True, "source": "local",
                 "facts_note": hub_facts_note("hub-1"), "host_info": {"hostname": "vm"}}  # fmt: skip
    context = {"payload": {"title": "Disk full", "severity": "critical"}, "context": hub_facts}
    model = build_model(normalise_context(context), "trigger")
    assert (model["title"], model["host"]) == ("Disk full", "")
    named = {**hub_facts, "host": "db-42", "facts_note": ""}  # a node named its target
    context = {"payload": {"title": "Disk full"}, "context": named}
    assert build_model(normalise_context(context), "trigger")["host"] == "db-42"
    assert test_context()["payload"]["host"] == "hub-1"
