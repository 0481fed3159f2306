"""The fast paths of ingestion (raw inserts, probes, key lookup) store exactly what the ORM would."""

import copy
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.alerts import services
from apps.alerts.models import Alert, AlertEvent, Incident, IncidentEvent
from apps.alerts.services import ingest
from apps.common.auth import AuthError, active_key, authenticate
from apps.common.models import ApiKey
from tests.alerts.test_auth import request_with
from tests.conftest import load_payload

pytestmark = pytest.mark.django_db


def many_new(count: int, prefix: str = "p") -> dict:
    payload = load_payload("alertmanager/v4_firing_two_alerts.json")
    template = payload["alerts"][0]
    payload["alerts"] = []
    for index in range(count):
        alert = copy.deepcopy(template)
        alert["labels"].update(instance=f"{prefix}-{index}", note="ünïcødé ✓")
        alert["fingerprint"] = f"{prefix}{index:06d}"
        payload["alerts"].append(alert)
    return payload


@pytest.mark.parametrize("count", [1, 10, 120])  # 120 rows: more than one insert batch
def test_new_rows_read_back_as_the_orm_would_store_them(count):
    result = ingest(many_new(count))
    assert result.counts["created"] == count == Alert.objects.count()
    for alert in result.alerts:
        stored = Alert.objects.get(pk=alert.pk)  # the pk given back belongs to this very row
        assert not alert._state.adding
        for field in Alert._meta.concrete_fields:
            assert getattr(stored, field.attname) == getattr(alert, field.attname), field.name
        assert stored.labels["note"] == "ünïcødé ✓"
        assert stored.incident_id is not None
        assert stored.incident_id == alert.incident.pk
        assert stored.started_at.tzinfo is not None
        assert stored.ended_at is None
        assert stored.group_reason == f"opened incident #{stored.incident_id}: " + (
            f"no open or acknowledged incident had group key {stored.group_key!r}"
        )
    for incident in result.incidents:
        stored = Incident.objects.get(pk=incident.pk)
        for field in Incident._meta.concrete_fields:
            assert getattr(stored, field.attname) == getattr(incident, field.attname), field.name
    assert AlertEvent.objects.count() == count
    assert IncidentEvent.objects.filter(to_status="open").count() == count


def test_events_of_new_alerts_name_their_rows_and_the_time_of_ingest():
    before = timezone.now()
    result = ingest(many_new(3), trace_id="t-1")
    for alert in result.alerts:
        (event,) = AlertEvent.objects.filter(alert_id=alert.pk)
        assert event.kind == "created"
        assert event.trace_id == "t-1"
        assert event.created_at >= before.replace(microsecond=0)
        assert f"opened incident #{alert.incident.pk}" in event.reason


def test_new_alerts_of_new_groups_read_no_full_rows():
    """The all-new case probes with narrow selects and builds no model from a read."""
    with CaptureQueriesContext(connection) as queries:
        ingest(many_new(10))
    selects = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2
    assert all(" FROM " in sql and "." not in sql.split(" FROM ")[0] for sql in selects)
    assert all('"content_hash"' not in sql for sql in selects)


def test_a_new_alert_joins_the_active_incident_of_its_group(make_alert, make_payload):
    first = ingest(make_alert("DiskFull", host="web-01", fingerprint="one"))
    second = ingest(make_alert("DiskFull", host="web-01", fingerprint="two"))
    assert second.counts["created"] == 1
    assert second.incident.pk == first.incident.pk
    assert Incident.objects.count() == 1
    assert Alert.objects.get(fingerprint="two").incident_id == first.incident.pk


def test_a_resent_payload_with_some_new_alerts_loads_only_the_stored_ones():
    ingest(many_new(5))
    payload = many_new(8)  # 5 stored, 3 new
    result = ingest(payload)
    assert result.counts == {"created": 3, "updated": 0, "resolved": 0, "unchanged": 5}
    assert Alert.objects.count() == 8
    assert len({alert.pk for alert in result.alerts}) == 8


def test_insert_refuses_an_alert_whose_new_incident_is_not_saved():
    incident = Incident(title="t", group_key="k")
    alert = Alert(source="generic", fingerprint="f", name="n", status="firing", severity="info")
    alert.incident = incident
    with pytest.raises(ValueError, match="not saved"):
        services.insert_new(Alert, [alert], services.ALERT_INSERT_COLUMNS)
    assert Alert.objects.count() == 0


# --- API key lookup -----------------------------------------------------------------------


def test_active_key_matches_the_orm_lookup_field_for_field():
    key, raw = ApiKey.create_key("k", ["ingest", "read"])
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    found, orm = active_key(raw), ApiKey.lookup(raw)
    assert found is not None and orm is not None
    for field in ApiKey._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(orm, field.attname), field.name
    assert found.last_used_at.tzinfo is not None
    assert found.scopes == ["ingest", "read"]
    assert not found._state.adding
    assert active_key("ipk_not-a-key") is None


def test_a_deactivated_key_is_refused_on_its_very_next_request():
    """No in-process cache: deactivation (from any process) applies at once."""
    _, raw = ApiKey.create_key("k", ["ingest"])
    authenticate(request_with(f"Bearer {raw}"), "ingest")
    ApiKey.objects.update(is_active=False)
    with pytest.raises(AuthError) as info:
        authenticate(request_with(f"Bearer {raw}"), "ingest")
    assert info.value.status == 401


def test_a_scope_removed_is_refused_on_the_next_request():
    key, raw = ApiKey.create_key("k", ["ingest"])
    authenticate(request_with(f"Bearer {raw}"), "ingest")
    ApiKey.objects.filter(pk=key.pk).update(scopes=["read"])
    with pytest.raises(AuthError) as info:
        authenticate(request_with(f"Bearer {raw}"), "ingest")
    assert info.value.status == 403


def test_authentication_is_one_select_once_use_is_recorded():
    _, raw = ApiKey.create_key("k", ["ingest"])
    authenticate(request_with(f"Bearer {raw}"), "ingest")  # records last_used_at
    with CaptureQueriesContext(connection) as queries:
        authenticate(request_with(f"Bearer {raw}"), "ingest")
    assert len(queries) == 1
