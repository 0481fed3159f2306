"""Two webhooks carrying the same new alert at the same moment: one Alert, one Incident.

Real threads need real row locks and a server that lets writers wait: run on PostgreSQL
(DATABASE_URL=postgres://...). SQLite serialises writers (BEGIN IMMEDIATE) and is covered
sequentially and by the simulated race in test_ingest.py.
"""

import copy
import threading

import pytest
from django.db import connection, connections

from apps.alerts import services
from apps.alerts.models import Alert, Incident
from apps.alerts.services import ingest
from tests.conftest import load_payload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://...) for concurrent writers")


def run_together(payloads, monkeypatch):
    """Ingest each payload in its own thread; every first pass waits until all have read."""
    barrier = threading.Barrier(len(payloads), timeout=10)
    passes = threading.local()
    real_load = services.Ingestion.load_incidents
    calls = []

    def load_then_wait(self, planned):
        calls.append(1)
        real_load(self, planned)
        if not getattr(passes, "waited", False):
            passes.waited = True
            try:
                barrier.wait()  # both transactions have read "nothing stored yet"
            except threading.BrokenBarrierError:
                pass

    monkeypatch.setattr(services.Ingestion, "load_incidents", load_then_wait)
    results, errors = [], []

    def work(payload):
        try:
            results.append(ingest(payload))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(p,)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    return results, len(calls)


def test_the_same_new_alert_twice_at_once(monkeypatch):
    payload = load_payload("alertmanager/v4_firing_two_alerts.json")
    results, passes = run_together([payload, copy.deepcopy(payload)], monkeypatch)
    assert passes == 3  # both read "nothing stored"; the loser hit the constraint and redid
    assert Alert.objects.count() == 2
    assert Incident.objects.count() == 1
    created = sorted(r.counts["created"] for r in results)
    unchanged = sorted(r.counts["unchanged"] for r in results)
    assert created == [0, 2] and unchanged == [0, 2]
    assert sum(len(r.changed) for r in results) == 1  # one run, not two


def test_two_new_alerts_of_one_group_at_once_share_one_incident(monkeypatch):
    first = load_payload("alertmanager/v4_firing_two_alerts.json")
    second = copy.deepcopy(first)
    first["alerts"] = first["alerts"][:1]
    second["alerts"] = second["alerts"][1:]
    _, passes = run_together([first, second], monkeypatch)
    assert passes == 3  # the second incident insert hit the one-active-per-group constraint
    assert Alert.objects.count() == 2
    assert Incident.objects.count() == 1
    assert Incident.objects.get().alerts.count() == 2
