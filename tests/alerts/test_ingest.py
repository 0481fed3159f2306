"""apps.alerts.services.ingest: dedup, grouping, lifecycle, events, bounded queries."""

import copy
import json
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.alerts import services
from apps.alerts.models import Alert, AlertEvent, Incident, IncidentEvent
from apps.alerts.services import IngestError, ingest
from tests.conftest import PAYLOADS, load_payload

pytestmark = pytest.mark.django_db

ALL_FIXTURES = sorted(str(p.relative_to(PAYLOADS)) for p in PAYLOADS.rglob("*.json"))


def row_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Alert, Incident, AlertEvent, IncidentEvent)
    }


def fresh(instance):
    instance.refresh_from_db()
    return instance


# --- sources and errors ---------------------------------------------------------------------


# Vendor events about an alert that is not stored (an escalation) create nothing.
ACTION_ONLY_FIXTURES = {"opsgenie/escalate.json"}
STORING_FIXTURES = [f for f in ALL_FIXTURES if f not in ACTION_ONLY_FIXTURES]


@pytest.mark.parametrize("fixture", STORING_FIXTURES)
def test_every_fixture_ingests_and_a_resend_writes_nothing(fixture):
    payload = load_payload(fixture)
    first = ingest(payload)
    assert first.source == fixture.split("/")[0]
    assert first.counts["created"] == len(first.alerts) == Alert.objects.count() >= 1
    before = row_counts()
    stamps = sorted(Alert.objects.values_list("updated_at", flat=True))

    again = ingest(copy.deepcopy(payload))

    assert again.counts["unchanged"] == sum(again.counts.values())
    assert again.changed == []
    assert row_counts() == before
    assert sorted(Alert.objects.values_list("updated_at", flat=True)) == stamps


@pytest.mark.parametrize("fixture", STORING_FIXTURES)
def test_named_source_parses_and_stores_under_that_source(fixture):
    vendor = fixture.split("/")[0]
    result = ingest(load_payload(fixture), vendor)
    assert result.source == vendor
    assert {a.source for a in Alert.objects.all()} == {vendor}


def test_unclaimed_payload_is_a_clear_error_and_stores_nothing():
    with pytest.raises(IngestError, match="no vendor recognises this payload"):
        ingest({"hello": "world"})
    assert row_counts() == dict.fromkeys(row_counts(), 0)


def test_wrong_vendor_is_an_error():
    with pytest.raises(IngestError, match="not a grafana payload.*looks like alertmanager"):
        ingest(load_payload("alertmanager/v4_firing_two_alerts.json"), "grafana")
    assert Alert.objects.count() == 0


def test_unknown_source_is_an_error():
    with pytest.raises(IngestError, match="unknown source 'nagios'"):
        ingest(load_payload("alertmanager/v4_firing_two_alerts.json"), "nagios")


@pytest.mark.parametrize("payload", [None, [], "text", 42, {"alerts": []}, {"alerts": "x"}])
def test_odd_payloads_raise_ingest_error(payload):
    with pytest.raises(IngestError):
        ingest(payload)
    assert Alert.objects.count() == 0


def test_checks_source_parses_generic_and_stores_as_checks(make_alert, make_payload):
    result = ingest(make_payload(make_alert("cpu", host="db-1")), "checks")
    assert result.source == "checks"
    assert Alert.objects.get().source == "checks"
    assert Incident.objects.get().source == "checks"


def test_detect_aliases(make_alert):
    for alias in ("cli", "api", "webhook", None):
        result = ingest(make_alert(f"a-{alias}", fingerprint=f"fp-{alias}"), alias)
        assert result.source == "generic"


def test_unicode_and_long_values_are_stored(make_alert, make_payload):
    name = "Диск заполнен 💾 " + "x" * 600
    result = ingest(make_payload(make_alert(name, host="хост-1", fingerprint="f" * 300)))
    alert = Alert.objects.get()
    assert alert.name == name[:500]
    assert alert.host == "хост-1"
    assert len(alert.fingerprint) <= 200
    assert len(result.incident.group_key) <= 200
    # the shortened fingerprint is stable: the same alert again is unchanged
    again = ingest(make_payload(make_alert(name, host="хост-1", fingerprint="f" * 300)))
    assert again.counts["unchanged"] == 1


def test_bad_group_by_setting_is_an_ingest_error(settings, make_alert):
    settings.INCIDENT_GROUP_BY = ["name", "colour"]
    with pytest.raises(IngestError, match="INCIDENT_GROUP_BY has unknown field 'colour'"):
        ingest(make_alert())


# --- dedup and counts -----------------------------------------------------------------------


def test_counts_and_result_shape(make_alert, make_payload):
    result = ingest(
        make_payload(
            make_alert("A", fingerprint="a"),
            make_alert("B", fingerprint="b", host="web-02"),
        )
    )
    assert result.counts == {"created": 2, "updated": 0, "resolved": 0, "unchanged": 0}
    assert len(result.alerts) == 2 and all(a.pk for a in result.alerts)
    assert len(result.incidents) == 2
    assert result.incident == result.incidents[0]
    assert sorted(reason for _, reason in result.changed) == ["new", "new"]

    result = ingest(
        make_payload(
            make_alert("A", fingerprint="a", status="resolved"),
            make_alert("B", fingerprint="b", host="web-02", description="now with text"),
            make_alert("C", fingerprint="c"),
        )
    )
    assert result.counts == {"created": 1, "updated": 1, "resolved": 1, "unchanged": 0}


def test_changed_content_updates_the_row_and_records_an_event(make_alert):
    ingest(make_alert(fingerprint="a", description="one"))
    result = ingest(make_alert(fingerprint="a", description="two"))
    assert result.counts["updated"] == 1
    alert = Alert.objects.get()
    assert alert.description == "two"
    assert list(alert.events.values_list("kind", flat=True)) == ["created", "updated"]
    assert "opened incident #" in alert.events.first().reason  # grouping folded into created
    assert result.changed == []  # same severity, still firing: no new run


def test_same_fingerprint_twice_in_one_payload_counts_once(make_alert, make_payload):
    result = ingest(
        make_payload(
            make_alert(fingerprint="a", description="first"),
            make_alert(fingerprint="a", description="last"),
        )
    )
    assert result.counts["created"] == 1
    assert Alert.objects.get().description == "last"


def test_fingerprint_fields_are_stored(make_alert):
    ingest(load_payload("alertmanager/v4_firing_two_alerts.json"))
    ingest(make_alert("NoFp", host="h"))
    assert set(
        Alert.objects.filter(source="alertmanager").values_list("fingerprint_fields", flat=True)[
            :1
        ][0]
    ) == {"fingerprint"}
    assert Alert.objects.get(source="generic").fingerprint_fields == ["name", "host"]


# --- grouping and lifecycle -----------------------------------------------------------------


def test_alerts_with_the_same_name_and_host_share_an_incident(make_alert, make_payload):
    ingest(load_payload("alertmanager/v4_firing_two_alerts.json"))
    # two alerts, distinct fingerprints, same name + host: one incident
    assert Alert.objects.count() == 2
    incident = Incident.objects.get()
    assert incident.alerts.count() == 2
    assert incident.group_key == "name=High CPU Temperature|host=web-01"
    assert incident.title == "High CPU Temperature on web-01"
    # a later alert with the same key joins the open incident
    result = ingest(make_payload(make_alert("High CPU Temperature", fingerprint="z")), "generic")
    assert result.incident == incident
    assert result.changed == []


def test_group_by_is_configurable(settings, make_alert, make_payload):
    settings.INCIDENT_GROUP_BY = ["labels.team"]
    ingest(
        make_payload(
            make_alert("A", host="h1", fingerprint="1", labels={"team": "db"}),
            make_alert("B", host="h2", fingerprint="2", labels={"team": "db"}),
            make_alert("C", host="h3", fingerprint="3", labels={"team": "web"}),
        )
    )
    assert sorted(Incident.objects.values_list("group_key", flat=True)) == [
        "labels.team=db",
        "labels.team=web",
    ]


def test_full_lifecycle_open_ack_resolve_reopen(make_alert, make_payload):
    first = ingest(make_payload(make_alert("A", fingerprint="a"), make_alert("A", fingerprint="b")))
    incident = first.incident
    assert incident.status == "open"
    assert first.changed == [(incident, "new")]

    ack = ingest(make_payload(make_alert("A", fingerprint="a", status="acknowledged")))
    assert fresh(incident).status == "acknowledged"
    assert incident.acknowledged_at is not None
    assert ack.changed == []

    partial = ingest(make_payload(make_alert("A", fingerprint="a", status="resolved")))
    assert partial.counts["resolved"] == 1
    assert partial.changed == []  # a partial resolve is not a change
    assert fresh(incident).status == "acknowledged"

    whole = ingest(make_payload(make_alert("A", fingerprint="b", status="resolved")))
    assert whole.changed == [(incident, "resolved")]
    assert fresh(incident).status == "resolved"
    assert incident.resolved_at is not None

    again = ingest(make_payload(make_alert("A", fingerprint="b")))
    assert again.changed == [(incident, "reopened")]
    assert again.incident.pk == incident.pk
    assert fresh(incident).status == "open" and incident.resolved_at is None
    assert Incident.objects.count() == 1

    transitions = list(incident.events.values_list("from_status", "to_status"))
    assert transitions == [
        ("", "open"),
        ("open", "acknowledged"),
        ("acknowledged", "resolved"),
        ("resolved", "open"),
    ]
    assert all(e.reason and e.created_at for e in incident.events.all())
    kinds = list(Alert.objects.get(fingerprint="b").events.values_list("kind", flat=True))
    assert kinds == ["created", "resolved", "refired", "grouped"]
    assert (
        Alert.objects.get(fingerprint="b").group_reason == f"reopened its incident #{incident.pk}"
    )


def test_a_resent_acknowledgement_writes_nothing(make_alert):
    ingest(make_alert(fingerprint="a"))
    ingest(make_alert(fingerprint="a", status="acknowledged"))
    before = row_counts()
    result = ingest(make_alert(fingerprint="a", status="acknowledged"))
    assert result.counts["unchanged"] == 1
    assert row_counts() == before


def test_opsgenie_acknowledge_of_a_stored_alert_acknowledges_its_incident():
    create = load_payload("opsgenie/create.json")
    ingest(create)
    incident = Incident.objects.get()
    ack = load_payload("opsgenie/acknowledge.json")
    ack["alert"]["alertId"] = create["alert"]["alertId"]
    result = ingest(ack)
    assert result.counts["updated"] == 1
    assert fresh(incident).status == "acknowledged"
    alert = Alert.objects.get()
    assert alert.name == "another alert"  # an action does not rename the stored alert
    assert alert.events.filter(kind="acknowledged").count() == 1


def test_escalation_of_an_unknown_alert_stores_nothing():
    result = ingest(load_payload("opsgenie/escalate.json"))
    assert result.counts == {"created": 0, "updated": 0, "resolved": 0, "unchanged": 1}
    assert Alert.objects.count() == 0


def test_severity_is_the_max_of_firing_alerts(make_alert, make_payload):
    first = ingest(make_payload(make_alert(fingerprint="a", severity="warning")))
    incident = first.incident
    assert incident.severity == "warning"
    up = ingest(make_payload(make_alert(fingerprint="b", severity="critical")))
    assert up.changed == [(incident, "severity_up")]
    assert fresh(incident).severity == "critical"
    down = ingest(make_payload(make_alert(fingerprint="b", severity="critical", status="resolved")))
    assert down.changed == []
    assert fresh(incident).severity == "warning"
    reasons = list(
        incident.events.filter(from_status="open", to_status="open").values_list(
            "reason", flat=True
        )
    )
    assert reasons == ["severity warning -> critical", "severity critical -> warning"]


def test_an_alert_first_seen_resolved_opens_no_incident(make_alert):
    result = ingest(make_alert(fingerprint="a", status="resolved"))
    assert result.counts["created"] == 1
    assert result.incidents == [] and result.incident is None
    assert Incident.objects.count() == 0
    alert = Alert.objects.get()
    assert alert.group_reason.startswith("not grouped: it arrived resolved")
    assert "not grouped" in alert.events.get(kind="created").reason


def test_reopen_joins_the_active_incident_when_one_holds_the_group_key(make_alert):
    ingest(make_alert(fingerprint="a"))
    ingest(make_alert(fingerprint="a", status="resolved"))
    old = Incident.objects.get()
    assert old.status == "resolved"
    # a new alert with the same key opens a second incident while the first is resolved
    newer = ingest(make_alert(fingerprint="b")).incident
    assert newer.pk != old.pk
    # now a fires again: at most one active incident per key, so it joins the newer one
    result = ingest(make_alert(fingerprint="a"))
    assert result.incident.pk == newer.pk
    assert fresh(old).status == "resolved"
    assert Incident.objects.filter(status="open").count() == 1


def test_an_alert_that_fires_again_under_another_host_is_grouped_by_its_new_key(make_alert):
    """Was: it reopened its old incident while a newer one held that incident's group key, the
    one-active-incident index refused the write, and every retry of the webhook got 503."""
    ingest(make_alert("BackupFailed", host="", fingerprint="a"))
    ingest(make_alert("BackupFailed", host="", fingerprint="a", status="resolved"))
    old = Incident.objects.get()
    newer = ingest(make_alert("BackupFailed", host="", fingerprint="b")).incident
    result = ingest(make_alert("BackupFailed", host="db-09", fingerprint="a"))
    moved = result.incident
    assert moved.pk not in (old.pk, newer.pk) and moved.host == "db-09"
    assert fresh(old).status == "resolved" and fresh(newer).status == "open"
    assert Alert.objects.get(fingerprint="a").incident_id == moved.pk
    # while its incident is active a changed key does not move it
    again = ingest(make_alert("BackupFailed", host="", fingerprint="a", summary="x"))
    assert again.incident.pk == moved.pk


def test_an_alert_whose_key_changed_reopens_nothing_when_its_new_key_has_no_incident(make_alert):
    ingest(make_alert("BackupFailed", host="", fingerprint="a"))
    ingest(make_alert("BackupFailed", host="", fingerprint="a", status="resolved"))
    old = Incident.objects.get()
    result = ingest(make_alert("BackupFailed", host="db-09", fingerprint="a"))
    assert result.incident.pk != old.pk and fresh(old).status == "resolved"
    assert [reason for _, reason in result.changed] == ["new"]


def test_unique_active_incident_per_group_key_is_enforced_by_the_database():
    Incident.objects.create(title="x", group_key="k", status="open")
    with pytest.raises(IntegrityError):
        Incident.objects.create(title="y", group_key="k", status="acknowledged")


# --- bounded queries ------------------------------------------------------------------------


def am_payload(count: int, prefix: str = "n", status: str = "firing") -> dict:
    payload = load_payload("alertmanager/v4_firing_two_alerts.json")
    template = payload["alerts"][0]
    payload["alerts"] = []
    for index in range(count):
        alert = copy.deepcopy(template)
        alert["labels"]["instance"] = f"{prefix}-{index}"
        alert["labels"]["host"] = f"{prefix}-{index}"
        alert["fingerprint"] = f"{prefix}{index:06d}"
        alert["status"] = status
        if status == "resolved":
            alert["endsAt"] = "2020-02-06T01:00:00Z"
        payload["alerts"].append(alert)
    return payload


@pytest.mark.parametrize("count", [1, 10, 200])
def test_queries_are_bounded_per_payload_not_per_alert(count, django_assert_max_num_queries):
    # A fixed number of statements; bulk writes are split by the backend's parameter limit
    # (999 on SQLite), which adds one statement per ~50 rows at most.
    limit = 13 + count // 20
    with django_assert_max_num_queries(limit):
        ingest(am_payload(count))  # all new: new incidents
    with django_assert_max_num_queries(limit):
        ingest(am_payload(count, status="resolved"))  # all resolve their incidents
    with django_assert_max_num_queries(limit):
        ingest(am_payload(count))  # all reopen
    with django_assert_max_num_queries(5):
        ingest(am_payload(count))  # all unchanged: one read (+ savepoints)
    assert Alert.objects.count() == count
    assert Incident.objects.filter(status="open").count() == count


def test_an_unchanged_resend_issues_no_writes():
    ingest(am_payload(20))
    with CaptureQueriesContext(connection) as queries:
        ingest(am_payload(20))
    writes = [
        q["sql"] for q in queries if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")
    ]
    assert writes == []


# --- concurrency ----------------------------------------------------------------------------


def test_two_sequential_deliveries_of_the_same_new_alert_give_one_alert_one_incident():
    payload = load_payload("alertmanager/v4_firing_two_alerts.json")
    ingest(payload)
    ingest(copy.deepcopy(payload))
    assert Alert.objects.count() == 2
    assert Incident.objects.count() == 1


def test_a_lost_race_is_retried_and_joins_the_winner(monkeypatch, make_alert):
    """Simulate the other webhook committing between our read and our insert.

    The first pass is made to see no stored alert (as if it read before the winner wrote);
    its insert then hits the unique constraint, and the retry must find the winner's rows.
    """
    winner = ingest(make_alert(fingerprint="same"))
    real_load = services.Ingestion.load_existing
    calls = []

    def stale_once(self):
        calls.append(1)
        return {} if len(calls) == 1 else real_load(self)

    monkeypatch.setattr(services.Ingestion, "load_existing", stale_once)
    monkeypatch.setattr(services.Ingestion, "load_incidents", stale_incidents_once(calls))
    result = ingest(make_alert(fingerprint="same", description="changed"))
    assert len(calls) == 2  # first pass failed on the constraint, second pass succeeded
    assert Alert.objects.count() == 1
    assert Incident.objects.count() == 1
    assert result.incident.pk == winner.incident.pk
    assert result.counts == {"created": 0, "updated": 1, "resolved": 0, "unchanged": 0}


def stale_incidents_once(calls):
    real = services.Ingestion.load_incidents

    def load(self, planned):
        if len(calls) == 1:
            self.active = {}
            return None
        return real(self, planned)

    return load


def test_a_second_conflict_is_raised_not_swallowed(monkeypatch, make_alert):
    ingest(make_alert(fingerprint="same"))
    monkeypatch.setattr(services.Ingestion, "load_existing", lambda self: {})
    monkeypatch.setattr(services.Ingestion, "load_incidents", lambda self, planned: None)
    with pytest.raises(IntegrityError):
        ingest(make_alert(fingerprint="same", description="changed"))
    assert Alert.objects.get().description == ""


# --- timestamps -----------------------------------------------------------------------------


def test_times_are_aware_and_events_carry_the_trace_id(make_alert):
    started = (timezone.now() - timedelta(minutes=5)).replace(microsecond=0)
    ingest(make_alert(fingerprint="a", started_at=started.isoformat()), trace_id="trace-1")
    alert = Alert.objects.get()
    assert alert.started_at == started
    assert set(AlertEvent.objects.values_list("trace_id", flat=True)) == {"trace-1"}
    assert set(IncidentEvent.objects.values_list("trace_id", flat=True)) == {"trace-1"}
    assert json.dumps(alert.labels) == "{}"


def test_result_incidents_reflect_the_changes_of_the_payload(make_alert, make_payload):
    ingest(make_payload(make_alert(fingerprint="a"), make_alert(fingerprint="b")))
    # a unchanged, b resolves; then a resolves while b is re-sent unchanged
    ingest(
        make_payload(make_alert(fingerprint="a"), make_alert(fingerprint="b", status="resolved"))
    )
    result = ingest(
        make_payload(
            make_alert(fingerprint="b", status="resolved"),
            make_alert(fingerprint="a", status="resolved"),
        )
    )
    assert [i.status for i in result.incidents] == ["resolved"]
    assert result.changed == [(result.incidents[0], "resolved")]
