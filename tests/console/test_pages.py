"""The console's pages: who sees what, the actions and their records, bounded queries."""

import json

import pytest
from django.test import Client

from apps.alerts.models import Incident, IncidentEvent
from apps.alerts.services import ingest
from apps.orchestration.models import PipelineDefinition, PipelineRun, RunStatus

from .seed import CONFIG, seed

pytestmark = pytest.mark.django_db


def critical_incident(name: str = "DiskFull", host: str = "db-07") -> Incident:
    payload = {"alerts": [{"name": name, "host": host, "status": "firing", "severity": "critical"}]}
    return ingest(payload, "generic").incident


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_strangers_are_sent_to_sign_in():
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_an_account_in_no_console_group_sees_nothing(nobody):
    incident = critical_incident()
    client = client_for(nobody)
    for path in ("/", f"/incidents/{incident.pk}", "/definitions", "/hosts"):
        assert client.get(path).status_code == 403, path


def test_a_viewer_sees_everything_and_acts_on_nothing(viewer):
    incident = critical_incident()
    client = client_for(viewer)
    page = client.get(f"/incidents/{incident.pk}").content.decode()
    assert "DiskFull on db-07" in page
    assert 'id="ack"' not in page and 'id="resolve"' not in page
    assert "You can look but not act" in page
    for action in ("ack", "resolve", "run"):
        response = client.post(f"/incidents/{incident.pk}/{action}", {"comment": "x"})
        assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.status == "open"
    assert not IncidentEvent.objects.filter(incident=incident).exclude(actor="").exists()


def test_an_operator_acknowledges_then_resolves_and_the_timeline_says_who(operator):
    incident = critical_incident()
    client = client_for(operator)
    response = client.post(f"/incidents/{incident.pk}/ack", {"comment": "on it"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "acknowledged" and incident.acknowledged_at is not None
    client.post(f"/incidents/{incident.pk}/resolve", {"comment": "disk cleaned"})
    incident.refresh_from_db()
    assert incident.status == "resolved" and incident.resolved_at is not None
    events = list(IncidentEvent.objects.filter(incident=incident, via="web").order_by("id"))
    assert [(e.actor, e.from_status, e.to_status) for e in events] == [
        ("olga", "open", "acknowledged"),
        ("olga", "acknowledged", "resolved"),
    ]
    page = client.get(f"/incidents/{incident.pk}").content.decode()
    assert "resolved by olga (web): disk cleaned" in page


def test_acting_twice_says_why_it_cannot(operator):
    incident = critical_incident()
    client = client_for(operator)
    client.post(f"/incidents/{incident.pk}/ack")
    response = client.post(f"/incidents/{incident.pk}/ack", follow=True)
    assert "is acknowledged; it cannot be acknowledged" in response.content.decode()
    assert IncidentEvent.objects.filter(incident=incident, via="web").count() == 1


def test_actions_refuse_a_post_without_the_csrf_token(operator):
    incident = critical_incident()
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    assert client.post(f"/incidents/{incident.pk}/ack").status_code == 403
    incident.refresh_from_db()
    assert incident.status == "open"


def test_run_again_starts_a_run_of_the_chosen_definition_and_notes_it(operator, settings):
    incident = critical_incident()
    PipelineDefinition.objects.create(name="again", config=CONFIG)
    client = client_for(operator)
    client.post(f"/incidents/{incident.pk}/run", {"definition": "again"})
    run = PipelineRun.objects.get(incident=incident, definition_name="again")
    note = IncidentEvent.objects.get(incident=incident, via="web")
    assert f"ran again v1 again (run #{run.pk}) by olga (web)" == note.reason
    response = client.post(f"/incidents/{incident.pk}/run", {"definition": "nope"}, follow=True)
    assert "no active definition named &#x27;nope&#x27;" in response.content.decode()


def test_now_lists_worst_first_with_counts_in_the_title(viewer):
    critical_incident("DiskFull", "db-07")
    ingest({"alerts": [{"name": "Slow", "host": "web-1", "severity": "warning"}]}, "generic")
    client = client_for(viewer)
    page = client.get("/").content.decode()
    assert "<title>1 critical · 1 warning — Now · Incident pipeline</title>" in page
    assert page.index("DiskFull on db-07") < page.index("Slow on web-1")
    fragment = client.get("/?fragment=1").content.decode()
    assert "<html" not in fragment
    assert 'data-title="1 critical · 1 warning — Now · Incident pipeline"' in fragment
    filtered = client.get("/?severity=warning&fragment=1").content.decode()
    assert "Slow on web-1" in filtered and "DiskFull" not in filtered
    assert "unknown severity" in client.get("/?severity=bad").content.decode()


def test_resume_a_failed_run_from_its_page(operator):
    from apps.orchestration.services import create_run

    definition = PipelineDefinition.objects.create(name="pick", config=TRANSFORM)
    run = create_run(definition, {"host": "db-07"}, source="cli")
    PipelineRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, error="worker died")
    client = client_for(operator)
    page = client.get(f"/runs/{run.pk}").content.decode()
    assert 'id="resume"' in page and 'class="pipeline-graph"' in page
    client.post(f"/runs/{run.pk}/resume")
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED
    page = client.get(f"/runs/{run.pk}").content.decode()
    assert 'data-node="pick" data-status="SUCCEEDED"' in page


TRANSFORM = {
    "version": "1",
    "nodes": [{"id": "pick", "type": "transform", "config": {"mapping": {"host": "payload.host"}}}],
}


def test_definition_versions_diff_and_dry_run_of_a_stored_incident(viewer):
    definition = PipelineDefinition.objects.create(name="tell", config=TRANSFORM)
    definition.config = {
        "version": "1",
        "nodes": [
            {"id": "tell", "type": "notify",
             "config": {"driver": "console", "title": "{{ payload.alerts[0].name }} paged"}},
        ],
    }  # fmt: skip
    definition.save()
    incident = critical_incident()
    client = client_for(viewer)
    page = client.get("/definitions/tell").content.decode()
    assert "v1" in page and "v2" in page
    assert '<span class="del">-      &quot;id&quot;: &quot;pick&quot;,</span>' in page
    assert '<span class="add">+      &quot;type&quot;: &quot;notify&quot;</span>' in page
    response = client.post("/definitions/tell", {"incident": str(incident.pk), "source": "api"})
    assert "DiskFull paged" in response.content.decode()
    bad = client.post("/definitions/tell", {"payload": "{not json", "source": "api"})
    assert "the payload is not JSON" in bad.content.decode()
    pasted = client.post("/definitions/tell", {"config": '{"version": "1", "nodes": []}'})
    assert 'id="validate-result"' in pasted.content.decode()
    assert 'class="ok" id="validate-result"' not in pasted.content.decode()
    good = client.post("/definitions/tell", {"config": json.dumps(TRANSFORM)})
    assert 'class="ok" id="validate-result">Valid.' in good.content.decode()


def test_page_queries_stay_bounded_however_much_is_stored(viewer, django_assert_max_num_queries):
    ids = seed(60, 300, active_every=2)
    client = client_for(viewer)
    client.get("/")  # the session and permission caches are warm from here on
    busiest = ids[0]  # every 60th run is this incident's: 5 runs with their nodes
    run_id = PipelineRun.objects.filter(incident_id=busiest).values_list("id", flat=True)[0]
    # "/" and an incident page include the silenced marks: +2 queries here (silences and
    # inhibition rules; none stored), at most +4 with some (tests/console/test_silences_console.py).
    pages = {
        "/": 11,
        "/?fragment=1&status=all": 11,
        f"/incidents/{busiest}": 18,
        f"/runs/{run_id}": 9,
        "/definitions": 6,
        "/definitions/seeded": 10,
        "/hosts": 7,
    }
    for path, limit in pages.items():
        with django_assert_max_num_queries(limit):
            assert client.get(path).status_code == 200, path
