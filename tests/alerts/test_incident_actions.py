"""Status changes by people: the one service, and the admin and CLI doors into it."""

import json
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client

from apps.alerts.actions import ActionError, Actor, acknowledge, change_status, resolve
from apps.alerts.models import Incident, IncidentEvent
from apps.alerts.services import ingest
from apps.orchestration.models import PipelineRun

pytestmark = pytest.mark.django_db


def incident(name: str = "DiskFull", host: str = "db-07", severity: str = "critical") -> Incident:
    payload = {"alerts": [{"name": name, "host": host, "severity": severity}]}
    return ingest(payload, "generic").incident


def people_events(target: Incident) -> list[tuple[str, str, str, str]]:
    return [
        (e.actor, e.via, e.from_status, e.to_status)
        for e in IncidentEvent.objects.filter(incident=target).exclude(via="").order_by("id")
    ]


def test_acknowledge_and_resolve_set_their_times_and_record_who_and_why():
    target = incident()
    event = acknowledge(target.pk, Actor("ana", "api"), "looking")
    assert event.reason == "acknowledged by ana (api): looking"
    resolve(target.pk, Actor("ana", "api"), "fixed")
    target.refresh_from_db()
    assert target.status == "resolved"
    assert target.acknowledged_at <= target.resolved_at
    assert people_events(target) == [
        ("ana", "api", "open", "acknowledged"),
        ("ana", "api", "acknowledged", "resolved"),
    ]


def test_a_change_that_cannot_happen_is_refused_and_records_nothing():
    target = incident()
    resolve(target.pk, Actor("ana", "cli"), "fixed")
    with pytest.raises(ActionError, match="is resolved; it cannot be acknowledged"):
        acknowledge(target.pk, Actor("ana", "cli"))
    with pytest.raises(ActionError, match="does not exist"):
        acknowledge(99999, Actor("ana", "cli"))
    assert len(people_events(target)) == 1


def test_reopening_is_refused_while_the_group_has_a_newer_active_incident():
    old = incident()
    resolve(old.pk, Actor("ana", "cli"), "fixed")
    newer = Incident.objects.create(title="again", group_key=old.group_key, status="open")
    with pytest.raises(ActionError, match=f"incident {newer.pk} is already active"):
        change_status(old.pk, "open", Actor("ana", "cli"))


def test_an_unknown_door_is_a_programming_error():
    with pytest.raises(ValueError, match="via must be one of"):
        Actor("ana", "telepathy")


def test_a_status_changed_in_the_admin_is_recorded_like_any_other(settings):
    target = incident()
    User.objects.create_superuser("root", password="a-long-test-password")
    client = Client()
    client.login(username="root", password="a-long-test-password")
    page = client.get(f"/admin/alerts/incident/{target.pk}/change/").content.decode()
    assert 'name="title"' not in page  # what alerts made is not edited by hand
    response = client.post(
        f"/admin/alerts/incident/{target.pk}/change/",
        {"status": "acknowledged", "reason": "seen in the admin",
         "alerts-TOTAL_FORMS": "0", "alerts-INITIAL_FORMS": "0",
         "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    target.refresh_from_db()
    assert target.status == "acknowledged" and target.acknowledged_at is not None
    event = IncidentEvent.objects.get(incident=target, via="admin")
    assert (event.actor, event.reason) == (
        "root",
        "acknowledged by root (admin): seen in the admin",
    )


def run_command(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_incidents_command_lists_worst_first_and_acts():
    warn = incident("Slow", "web-1", "warning")
    crit = incident()
    listing = run_command("incidents")
    assert listing.index("DiskFull on db-07") < listing.index("Slow on web-1")
    assert "2 of 2 shown (1 critical, 1 warning)" in listing
    data = json.loads(run_command("incidents", "--host", "web-1", "--json"))
    assert [row["id"] for row in data["items"]] == [warn.pk]
    assert "acknowledged by ops (cli)" in run_command(
        "incidents", "ack", str(crit.pk), "--by", "ops"
    )
    with pytest.raises(CommandError, match="resolving needs a comment"):
        run_command("incidents", "resolve", str(crit.pk))
    run_command("incidents", "resolve", str(crit.pk), "--comment", "freed space", "--by", "ops")
    assert people_events(crit) == [
        ("ops", "cli", "open", "acknowledged"),
        ("ops", "cli", "acknowledged", "resolved"),
    ]
    assert json.loads(run_command("incidents", "--status", "resolved", "--json"))["count"] == 1
    with pytest.raises(CommandError, match="is resolved; it cannot be acknowledged"):
        run_command("incidents", "ack", str(crit.pk))
    with pytest.raises(CommandError, match="unknown status 'gone'"):
        run_command("incidents", "--status", "gone")
    story = json.loads(run_command("incidents", "show", str(crit.pk), "--json"))
    assert [entry["kind"] for entry in story["timeline"]][:2] == ["status", "status"]
    assert "freed space" in run_command("incidents", "show", str(crit.pk))


def test_alerts_and_runs_commands_filter_and_speak_json():
    target = incident()
    ingest({"alerts": [{"name": "Gone", "host": "x", "status": "resolved"}]}, "generic")
    firing = json.loads(run_command("alerts", "--firing", "--json"))
    assert [row["name"] for row in firing["items"]] == ["DiskFull"]
    PipelineRun.objects.create(trace_id="t1", status="FAILED", error="boom", incident=target)
    PipelineRun.objects.create(trace_id="t2", status="COMPLETED")
    failed = json.loads(run_command("runs", "--failed", "--json"))
    assert [(row["status"], row["incident_id"]) for row in failed["items"]] == [
        ("FAILED", target.pk)
    ]
    assert "FAILED" in run_command("runs") and "COMPLETED" in run_command("runs")


ADMIN_FORMSETS = {"alerts-TOTAL_FORMS": "0", "alerts-INITIAL_FORMS": "0",
                  "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0"}  # fmt: skip


@pytest.mark.parametrize("comment", ("", "   \n "))
def test_resolving_without_a_comment_is_refused_through_every_door(comment):
    from apps.common.models import ApiKey

    target = incident()
    with pytest.raises(ActionError, match="resolving needs a comment"):
        resolve(target.pk, Actor("ana", "cli"), comment)
    with pytest.raises(CommandError, match="resolving needs a comment"):
        run_command("incidents", "resolve", str(target.pk), "--comment", comment)
    User.objects.create_superuser("root", password="a-long-test-password")
    web = Client()
    web.login(username="root", password="a-long-test-password")
    page = web.post(f"/incidents/{target.pk}/resolve", {"comment": comment}, follow=True)
    assert "resolving needs a comment" in page.content.decode()
    admin = web.post(f"/admin/alerts/incident/{target.pk}/change/",
                     {"status": "resolved", "reason": comment, **ADMIN_FORMSETS})  # fmt: skip
    assert admin.status_code == 200 and "resolving needs a comment" in admin.content.decode()
    _, raw_key = ApiKey.create_key("qa", ["write"])
    api = Client(headers={"authorization": f"Bearer {raw_key}"})
    refused = api.post(
        f"/api/incidents/{target.pk}/resolve", {"comment": comment}, content_type="application/json"
    )
    assert refused.status_code == 422 and refused.json()["code"] == "comment_required"
    target.refresh_from_db()
    assert target.status == "open" and people_events(target) == []


def test_a_comment_over_the_one_limit_is_refused_not_cut():
    target = incident()
    with pytest.raises(ActionError, match="longer than 2000 characters"):
        resolve(target.pk, Actor("ana", "web"), "x" * 2001)
    resolve(target.pk, Actor("ana", "web"), "x" * 2000)
    assert IncidentEvent.objects.get(incident=target, via="web").reason.endswith("x" * 2000)
