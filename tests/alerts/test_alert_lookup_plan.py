"""A webhook's lookup of its alerts uses the whole alert_identity index (fingerprint and
source) even on a table never analysed, as in a storm on a new PostgreSQL database: with the
source leading, PostgreSQL looked the source up alone and filtered every alert of the vendor."""

import pytest
from django.db import connection
from django.utils import timezone

from apps.alerts.models import Alert
from apps.alerts.sql import stored_fingerprints

pytestmark = pytest.mark.django_db


def fill(count: int) -> list[str]:
    now = timezone.now()
    alerts = [
        Alert(source="alertmanager", fingerprint=f"{n:016x}", name=f"A{n}", status="firing",
              severity="warning", content_hash=str(n), created_at=now, updated_at=now)
        for n in range(count)
    ]  # fmt: skip
    Alert.objects.bulk_create(alerts)
    return [alert.fingerprint for alert in alerts]


def test_stored_fingerprints_finds_exactly_the_stored_ones():
    stored = fill(30)
    asked = [*stored[:5], "not-stored", stored[29]]
    assert stored_fingerprints("alertmanager", asked) == {*stored[:5], stored[29]}
    assert stored_fingerprints("grafana", asked) == set()


def test_the_lookup_uses_fingerprint_and_source_in_the_index_without_statistics():
    fingerprints = fill(3000)[-10:]
    marks = ", ".join(["%s"] * len(fingerprints))
    sql = (
        f"SELECT fingerprint FROM {Alert._meta.db_table} "  # noqa: S608 - test's own names
        f"WHERE source = %s AND fingerprint IN ({marks})"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", ["alertmanager", *fingerprints])
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "fingerprint=?" in plan and "source=?" in plan, plan
            return
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", ["alertmanager", *fingerprints])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    conditions = [line for line in plan.splitlines() if "Index Cond" in line]
    assert conditions and "fingerprint" in conditions[0], plan
