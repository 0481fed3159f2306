"""Multi-row INSERTs store every value exactly and return ids in the order given; on PostgreSQL
the rows go as one JSON parameter, so the statement text is the same for any row count."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import DataError, connection, transaction

from apps.alerts.models import AlertEvent, Incident, IncidentEvent
from apps.alerts.sql import INCIDENT_INSERT_COLUMNS, insert_events, insert_new
from apps.common import bulk_insert
from apps.orchestration import rows
from apps.orchestration.models import PipelineRun

pytestmark = pytest.mark.django_db

ODD_TEXT = 'ünïcode ✓ "quoted" \\ back\\slash \n newline \t tab 𝄞 {"json": [1]}'


def run_row(n: int) -> dict:
    return {
        "trace_id": f"t{n}",
        "status": "PENDING",
        "payload": {"n": n, "text": ODD_TEXT, "nested": [1, None, {"a": 1.5}]} if n % 2 else [],
        "started_at": datetime(2026, 1, 2, 3, 4, 5, n, tzinfo=UTC) if n % 3 else None,
        "duration_ms": n / 4 if n % 2 else None,
        "priority": n % 7,
        "error": ODD_TEXT if n % 5 == 0 else "",
    }


@pytest.mark.parametrize("count", [1, 2, 7])
def test_runs_are_stored_exactly_and_ids_come_back_in_order(count):
    made = [run_row(n) for n in range(count)]
    ids = rows.insert_values(PipelineRun, made)
    assert len(set(ids)) == count
    stored = PipelineRun.objects.in_bulk(ids)
    for pk, row in zip(ids, made, strict=True):
        for name, value in row.items():
            assert getattr(stored[pk], name) == value, name
        assert stored[pk].config_snapshot == {} and stored[pk].kind == "definition"  # defaults


def test_incidents_and_events_keep_every_value_and_their_order():
    other_zone = datetime(2026, 3, 4, 5, 6, 7, 891, tzinfo=timezone(timedelta(hours=-5)))
    incidents = [
        Incident(title=f"{ODD_TEXT} {n}", status="open", severity="warning", group_key=f"k{n}",
                 source="generic", host="", created_at=other_zone, updated_at=other_zone,
                 acknowledged_at=None, resolved_at=None)
        for n in range(4)
    ]  # fmt: skip
    insert_new(Incident, incidents, INCIDENT_INSERT_COLUMNS)
    stored = Incident.objects.in_bulk([incident.pk for incident in incidents])
    for incident in incidents:
        assert stored[incident.pk].title == incident.title
        assert stored[incident.pk].created_at == other_zone  # the same instant
    insert_events(IncidentEvent, [(i.pk, "", "open", ODD_TEXT, "trace", other_zone)
                                  for i in incidents])  # fmt: skip
    assert list(IncidentEvent.objects.order_by("id").values_list("incident_id", "reason")) == [
        (incident.pk, ODD_TEXT) for incident in incidents
    ]
    assert AlertEvent.objects.count() == 0


def test_one_statement_text_on_postgresql_for_any_row_count():
    texts = {bulk_insert.insert_sql(connection, "t", ["a", "b"], count, "id") for count in (1, 9)}
    assert len(texts) == (1 if connection.vendor == "postgresql" else 2)


def test_a_value_the_database_refuses_is_a_data_error_not_a_crash():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite stores NUL")
    with pytest.raises(DataError), transaction.atomic():
        rows.insert_values(PipelineRun, [{**run_row(1), "error": "nul \x00 here"}])
    assert PipelineRun.objects.count() == 0


@pytest.mark.parametrize(
    "payload",
    [
        {"big": 2**70, "small": -(2**63)},  # beyond orjson's 64 bits: the json module writes them
        {"nested": {"1": "text key", "deep": [{"k": [2**65]}]}},
        {"surrogate_free": "\u2028 \u00a0 \U0001f4a9"},
    ],
)
def test_values_beyond_the_fast_encoder_are_stored_exactly(payload):
    [pk] = rows.insert_values(PipelineRun, [{**run_row(2), "payload": payload}])
    assert PipelineRun.objects.get(pk=pk).payload == payload


def test_not_a_number_is_stored_as_null_in_a_float_column():
    [pk] = rows.insert_values(PipelineRun, [{**run_row(1), "duration_ms": float("nan")}])
    assert PipelineRun.objects.get(pk=pk).duration_ms is None


def test_encode_rows_falls_back_for_what_orjson_refuses():
    text = bulk_insert.encode_rows([{"a": {1: 2**70}}])
    assert text == '[{"a": {"1": 1180591620717411303424}}]'
    assert bulk_insert.encode_rows([{"a": datetime(2026, 1, 2, tzinfo=UTC)}]) == (
        '[{"a":"2026-01-02T00:00:00+00:00"}]'
    )


def test_both_kinds_of_event_go_in_one_statement_on_postgresql_and_keep_every_value():
    from django.test.utils import CaptureQueriesContext

    from apps.alerts.models import Alert
    from apps.alerts.sql import insert_all_events

    when = datetime(2026, 3, 4, 5, 6, 7, 891, tzinfo=timezone(timedelta(hours=2)))
    incident = Incident.objects.create(title="t", group_key="k", source="generic")
    alert = Alert.objects.create(source="generic", fingerprint="f", incident=incident)
    with CaptureQueriesContext(connection) as captured:
        insert_all_events(
            [(alert.pk, "created", ODD_TEXT, "trace", when)] * 2,
            [(incident.pk, "", "open", ODD_TEXT, "trace", when)],
        )
    assert len(captured.captured_queries) == (1 if connection.vendor == "postgresql" else 2)
    assert (
        list(AlertEvent.objects.values_list("alert_id", "kind", "reason", "created_at"))
        == [(alert.pk, "created", ODD_TEXT, when)] * 2
    )
    assert list(
        IncidentEvent.objects.values_list("incident_id", "to_status", "reason", "created_at")
    ) == [(incident.pk, "open", ODD_TEXT, when)]
