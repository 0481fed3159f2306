"""Silences and inhibition through real runs: alerts are stored, notify nodes skip with the reason,
deliveries and alert events record it, and a HostDown storm pages once. The clock is injected
(every service takes `now`); nothing sleeps."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from apps.alerts import silences
from apps.alerts.inhibition import QuietCheck
from apps.alerts.models import Alert, AlertEvent, Incident, InhibitionRule
from apps.notify.models import Delivery
from apps.orchestration.models import PipelineDefinition, PipelineRun, StageExecution
from apps.orchestration.services import delivery_node_config, execute_run
from apps.orchestration.triggers import ingest_and_start

pytestmark = pytest.mark.django_db


def am_alert(name, host, severity="warning", **labels):
    return {
        "status": "firing",
        "labels": {"alertname": name, "instance": host, "severity": severity, **labels},
        "annotations": {"summary": f"{name} on {host}"},
        "startsAt": "2026-12-04T10:00:00Z",
    }


def payload(*alerts):
    return {"version": "4", "groupKey": "{}", "status": "firing", "receiver": "x",
            "alerts": list(alerts)}  # fmt: skip


@pytest.fixture
def paging(http_sink):
    PipelineDefinition.objects.create(
        name="page-all",
        priority=1,
        is_active=True,
        match={"source": "alertmanager"},
        config={
            "version": "1",
            "nodes": [
                {"id": "ingest", "type": "ingest", "next": "page"},
                {"id": "page", "type": "notify",
                 "config": {"driver": "generic", "url": f"{http_sink.url}/hook"}},
            ],
        },
    )  # fmt: skip
    return http_sink


def run_all(body):
    triggered = ingest_and_start(body, "alertmanager", "trace-1", dispatch_runs=False)
    for run_id in triggered.run_ids:
        execute_run(run_id)
    return triggered


def test_a_silenced_alert_is_stored_and_its_page_skipped_with_the_reason(paging):
    silence = silences.create(
        ["alertname=DiskFull", 'instance=~"web-0[1-7]"'],
        comment="planned reboot of web-07",
        duration="2h",
    )
    run_all(payload(am_alert("DiskFull", "web-07")))
    alert = Alert.objects.get(name="DiskFull")
    assert alert.incident is not None  # nothing is lost
    assert paging.requests == []
    until = silences.clock(silence.ends_at)  # a date is added when the end is not today
    reason = f"silenced by silence #{silence.pk} (planned reboot of web-07, until {until})"
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.last_error) == ("silenced", reason)
    stage = StageExecution.objects.get(node_id="page")
    assert (stage.status, stage.reason) == ("SKIPPED", reason)
    assert stage.output["channels_silenced"] == 1
    assert AlertEvent.objects.filter(alert=alert, kind="silenced", reason=reason).count() == 1
    assert PipelineRun.objects.get().status == "COMPLETED"


def test_an_alert_outside_the_silence_still_pages(paging):
    silences.create(["alertname=DiskFull", 'instance=~"web-0[1-7]"'], comment="x", duration="1h")
    run_all(payload(am_alert("DiskFull", "web-08")))
    assert len(paging.requests) == 1
    assert Delivery.objects.get().status == "succeeded"


def test_an_incident_is_silenced_only_when_all_its_firing_alerts_are():
    now = timezone.now()
    silences.create(["alertname=A"], comment="only A", duration="1h", now=now)
    incident = Incident.objects.create(title="t", group_key="k")
    for name in ("A", "B"):
        Alert.objects.create(source="s", fingerprint=name, name=name, status="firing",
                             severity="warning", incident=incident)  # fmt: skip
    assert QuietCheck(now).incident(incident).reason == ""
    Alert.objects.filter(name="B").update(status="resolved")
    assert QuietCheck(now).incident(incident).kind == "silenced"


def test_active_means_within_start_and_end_and_not_expired():
    start = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    silence = silences.create(["host=web-07"], comment="c", duration="2h", starts_at=start,
                              now=start)  # fmt: skip
    assert not silences.is_active(silence, start - timedelta(seconds=1))
    assert silences.is_active(silence, start)
    assert silences.is_active(silence, start + timedelta(hours=2) - timedelta(seconds=1))
    assert not silences.is_active(silence, start + timedelta(hours=2))
    silences.expire(silence.pk, now=start + timedelta(minutes=30))
    silence.refresh_from_db()
    assert not silences.is_active(silence, start + timedelta(minutes=31))
    with pytest.raises(silences.SilenceError, match="already ended"):
        silences.expire(silence.pk, now=start + timedelta(minutes=40))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"matchers": []}, "at least one"),
        ({"matchers": ['host=~"(a)\\1"']}, "invalid regular expression"),
        ({"comment": " "}, "comment is required"),
        ({"duration": None}, "exactly one of --duration and --until"),
        ({"duration": "soon"}, "is not like 2h"),
        ({"every": "0 2 * *"}, "needs 5 fields"),
        ({"every": "0 2 * * SUN", "tz": "Mars/Olympus"}, "unknown time zone"),
    ],
)
def test_bad_silences_are_one_line_errors_and_store_nothing(kwargs, message):
    arguments = {"matchers": ["host=web-07"], "comment": "c", "duration": "1h"} | kwargs
    with pytest.raises(silences.SilenceError, match=message) as raised:
        silences.create(arguments.pop("matchers"), **arguments)
    assert "\n" not in str(raised.value)
    assert not silences.Silence.objects.exists()


def test_storm_of_200_symptoms_under_one_host_down_pages_once(paging):
    InhibitionRule.objects.create(
        name="host-down",
        source_matchers=["alertname=HostDown"],
        target_matchers=["alertname!=HostDown"],
        equal=["instance"],
    )
    symptoms = [am_alert(f"Symptom{i:03d}", "web-07") for i in range(200)]
    run_all(payload(am_alert("HostDown", "web-07", "critical"), *symptoms))
    assert Incident.objects.count() == 201
    assert len(paging.requests) == 1
    assert "HostDown" in paging.requests[0].body.decode()
    assert Delivery.objects.filter(status="succeeded").count() == 1
    inhibited = Delivery.objects.filter(status="inhibited")
    assert inhibited.count() == 200
    assert inhibited.first().last_error.startswith("inhibited by alert 'HostDown' on web-07")
    assert AlertEvent.objects.filter(kind="inhibited").count() == 200


def test_an_alert_never_inhibits_itself_and_equal_labels_must_agree(paging):
    InhibitionRule.objects.create(
        name="any-critical",
        source_matchers=["severity=critical"],
        target_matchers=['severity=~"critical|warning"'],
        equal=["instance"],
    )
    run_all(payload(am_alert("HostDown", "web-07", "critical"), am_alert("Disk", "web-08")))
    assert len(paging.requests) == 2


def test_when_a_silence_ends_each_open_incident_pages_once_and_a_resolved_one_does_not(paging):
    from apps.notify.unsilence import notify_ended_silences

    now = timezone.now()
    silence = silences.create(["instance=web-07"], comment="reboot", duration="1h", now=now)
    run_all(payload(am_alert("DiskFull", "web-07"), am_alert("Load", "web-07")))
    assert paging.requests == [] and Delivery.objects.filter(status="silenced").count() == 2
    Incident.objects.filter(title__contains="Load").update(status="resolved")
    assert notify_ended_silences(now + timedelta(minutes=59)) == []  # not ended yet
    sent = notify_ended_silences(now + timedelta(hours=1, seconds=1), delivery_node_config)
    assert [(e["status"], e["error"]) for e in sent] == [("succeeded", "")]
    assert len(paging.requests) == 1
    assert f"silence #{silence.pk} ended, still firing" in paging.requests[0].body.decode()
    assert notify_ended_silences(now + timedelta(hours=2), delivery_node_config) == []  # once
    assert len(paging.requests) == 1


def test_expiring_a_silence_early_is_an_end_too_but_not_while_another_still_holds(paging):
    from apps.notify.unsilence import notify_ended_silences

    first = silences.create(["instance=web-07"], comment="one", duration="1h")
    silences.create(["alertname=DiskFull"], comment="two", duration="1h")
    run_all(payload(am_alert("DiskFull", "web-07")))
    silences.expire(first.pk)
    assert notify_ended_silences(node_config_for=delivery_node_config) == []
    assert paging.requests == []
    assert silences.Silence.objects.get(pk=first.pk).ended_swept_until is not None


def test_a_maintenance_window_silences_only_inside_its_windows_across_dst():
    created = datetime(2026, 3, 1, tzinfo=UTC)
    window = silences.create(["host=web-07"], comment="patching", every="30 2 * * SUN",
                             duration="1h", tz="Europe/Berlin", now=created)  # fmt: skip
    # Spring change day: 02:30 Berlin is skipped, the window opens at the jump (01:00 UTC).
    assert not silences.is_active(window, datetime(2026, 3, 29, 0, 59, tzinfo=UTC))
    assert silences.is_active(window, datetime(2026, 3, 29, 1, 0, tzinfo=UTC))
    assert not silences.is_active(window, datetime(2026, 3, 29, 2, 0, tzinfo=UTC))
    # Autumn change day: 02:30 happens twice; only the first (CEST, 00:30 UTC) opens it.
    assert silences.is_active(window, datetime(2026, 10, 25, 0, 45, tzinfo=UTC))
    assert not silences.is_active(window, datetime(2026, 10, 25, 1, 45, tzinfo=UTC))
    verdict = silences.silencing(
        {"host": "web-07"}, datetime(2026, 10, 25, 0, 45, tzinfo=UTC), [window]
    )
    assert verdict.reason.endswith("(patching, until 01:30 UTC)")


def test_the_sweep_sees_each_window_end_of_a_recurring_silence_once():
    def at(day, hour, minute=0):
        return datetime(2026, 3, day, hour, minute, tzinfo=UTC)

    window = silences.create(["host=web-07"], comment="patching", every="0 2 * * SUN",
                             duration="1h", tz="Europe/Berlin", now=at(2, 0))  # fmt: skip
    assert silences.ended_since(at(8, 1, 30)) == []  # the window is still open
    assert silences.ended_since(at(8, 2, 30)) == [(window, at(8, 2))]
    silences.Silence.objects.filter(pk=window.pk).update(ended_swept_until=at(8, 2))
    window.refresh_from_db()
    assert silences.ended_since(at(8, 3)) == []
    silences.expire(window.pk, now=at(15, 1, 30))  # during the next window
    assert silences.ended_since(at(15, 1, 31)) == [(silences.Silence.objects.get(), at(15, 1, 30))]


@pytest.mark.parametrize("alerts", [3, 60])
def test_the_quiet_verdict_costs_the_same_few_queries_for_any_number_of_alerts(
    alerts, django_assert_max_num_queries
):
    now = timezone.now()
    for i in range(5):
        silences.create([f"alertname=Other{i}"], comment="c", duration="1h", now=now)
    InhibitionRule.objects.create(name="host-down", source_matchers=["alertname=HostDown"],
                                  target_matchers=["alertname!=HostDown"], equal=["host"])  # fmt: skip
    incident = Incident.objects.create(title="t", group_key="k")
    for i in range(alerts):
        Alert.objects.create(source="s", fingerprint=f"f{i}", name=f"A{i}", status="firing",
                             severity="warning", host="web-07", incident=incident)  # fmt: skip
    with django_assert_max_num_queries(4):  # silences, rules, source alerts, incident alerts
        assert QuietCheck(now).incident(incident).reason == ""
