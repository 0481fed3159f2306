"""Two webhooks carrying the same new alert at the same moment: one Alert, one Incident.

On PostgreSQL both transactions are made to read "nothing stored yet" before either writes
(a barrier after the reads), so the loser really hits the unique constraints and retries.
On SQLite writers are serialised (flock + BEGIN IMMEDIATE), so the threads just run at once.
"""

import contextlib
import copy
import threading

import pytest
from django.db import connection, connections
from prometheus_client import REGISTRY

from apps.alerts import services
from apps.alerts.models import Alert, Incident
from apps.alerts.services import ingest
from apps.orchestration.models import PipelineRun
from apps.orchestration.triggers import ingest_and_start
from tests.conftest import load_payload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def needs_a_shared_database():
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and ("memory" in name or not name):
        pytest.skip("threads need a file or server database, not in-memory SQLite")


def run_together(payloads, monkeypatch, ingest_one=ingest):
    """Ingest each payload in its own thread; on PostgreSQL every first pass waits until
    all have read. Returns the results and the number of passes (retries add one)."""
    if connection.vendor != "postgresql":
        return run_threads(payloads, ingest_one), None
    barrier = threading.Barrier(len(payloads), timeout=10)
    passes = threading.local()
    real_load = services.Ingestion.load_incidents
    calls = []

    def load_then_wait(self, planned):
        calls.append(1)
        real_load(self, planned)
        if not getattr(passes, "waited", False):
            passes.waited = True
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()  # both transactions have read "nothing stored yet"

    monkeypatch.setattr(services.Ingestion, "load_incidents", load_then_wait)
    return run_threads(payloads, ingest_one), len(calls)


def run_threads(payloads, ingest_one=ingest):
    results, errors = [], []

    def work(payload):
        try:
            results.append(ingest_one(payload))
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
    return results


def test_the_same_new_alert_twice_at_once(monkeypatch):
    payload = load_payload("alertmanager/v4_firing_two_alerts.json")
    results, passes = run_together([payload, copy.deepcopy(payload)], monkeypatch)
    # PostgreSQL: both read "nothing stored"; the loser hit the constraint and redid once
    assert passes == (3 if connection.vendor == "postgresql" else None)
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
    # PostgreSQL: the second incident insert hit one-active-per-group and redid once
    assert passes == (3 if connection.vendor == "postgresql" else None)
    assert Alert.objects.count() == 2
    assert Incident.objects.count() == 1
    assert Incident.objects.get().alerts.count() == 2


def test_the_same_new_alert_twice_at_once_through_a_webhook_starts_one_run(monkeypatch):
    """The webhook path writes in one transaction without savepoints; the loser's whole
    transaction is rolled back and redone step by step: one incident, one run, and the
    alerts' metric counted once per payload, not once per attempt."""
    payload = load_payload("alertmanager/v4_firing_two_alerts.json")
    before = REGISTRY.get_sample_value("alerts_ingested_total", {"source": "alertmanager"}) or 0

    def webhook(body):
        return ingest_and_start(body, "alertmanager", "trace", start_runs=True,
                                dispatch_runs=False).result  # fmt: skip

    results, passes = run_together([payload, copy.deepcopy(payload)], monkeypatch, webhook)
    # PostgreSQL: the loser's one transaction failed, then store() read again (one pass more)
    assert passes == (3 if connection.vendor == "postgresql" else None)
    assert Alert.objects.count() == 2
    assert Incident.objects.count() == 1
    assert PipelineRun.objects.filter(incident=Incident.objects.get()).count() == 1
    assert sorted(r.counts["created"] for r in results) == [0, 2]
    after = REGISTRY.get_sample_value("alerts_ingested_total", {"source": "alertmanager"})
    assert after == before + 4
