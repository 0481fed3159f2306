"""The database keeps one active incident per group key after every migration (was: the
migration that made group_key's index a Meta index dropped the partial unique index on
PostgreSQL, and a storm opened two incidents for one key)."""

import pytest
from django.db import IntegrityError, connection, transaction

from apps.alerts.models import Incident

pytestmark = pytest.mark.django_db


def test_the_one_active_incident_index_and_the_group_key_index_exist():
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, Incident._meta.db_table)
    assert found["one_active_incident_per_group"]["unique"]
    assert found["incident_group_key"]["columns"] == ["group_key"]
    leftovers = [name for name in found if name.startswith("alerts_incident_group_key")]
    assert leftovers == []


def test_a_second_open_incident_for_a_group_key_is_refused():
    Incident.objects.create(title="a", group_key="name=Down|host=web-1", status="open")
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.create(title="b", group_key="name=Down|host=web-1", status="open")
