"""The console's silence pieces: "silence for..." on an incident, and the silenced marks."""

import pytest

from apps.alerts.models import InhibitionRule, Silence
from apps.alerts.services import ingest

from .test_pages import client_for, critical_incident

pytestmark = pytest.mark.django_db


def test_an_operator_silences_an_incident_and_the_pages_say_so(operator):
    incident = critical_incident()
    client = client_for(operator)
    page = client.get(f"/incidents/{incident.pk}").content.decode()
    assert 'id="silence"' in page and "silenced:" not in page
    response = client.post(f"/incidents/{incident.pk}/silence",
                           {"duration": "4h", "comment": "disk swap tonight"}, follow=True)  # fmt: skip
    silence = Silence.objects.get()
    assert silence.created_by == "olga" and silence.comment == "disk swap tonight"
    assert [(m["name"], m["value"]) for m in silence.matchers] == [
        ("alertname", "DiskFull"), ("host", "db-07")]  # fmt: skip
    assert f"Silence #{silence.pk} added" in response.content.decode()
    page = client.get(f"/incidents/{incident.pk}").content.decode()
    assert f"silenced: silenced by silence #{silence.pk} (disk swap tonight" in page
    now = client.get("/").content.decode()
    assert 'class="mark sil"' in now
    other = critical_incident("Load", "db-08")
    assert 'class="mark sil"' not in client.get(f"/incidents/{other.pk}").content.decode()


def test_a_viewer_cannot_silence_and_a_bad_duration_is_refused(viewer, operator):
    incident = critical_incident()
    assert client_for(viewer).post(f"/incidents/{incident.pk}/silence",
                                   {"duration": "1h", "comment": "x"}).status_code == 403  # fmt: skip
    response = client_for(operator).post(f"/incidents/{incident.pk}/silence",
                                         {"duration": "99y", "comment": "x"}, follow=True)  # fmt: skip
    assert "choose a duration" in response.content.decode()
    assert not Silence.objects.exists()


def test_an_inhibited_incident_is_marked_too(viewer):
    InhibitionRule.objects.create(name="host-down", source_matchers=["alertname=HostDown"],
                                  target_matchers=["alertname!=HostDown"], equal=["host"])  # fmt: skip
    ingest({"alerts": [{"name": "HostDown", "host": "db-07", "status": "firing",
                        "severity": "critical"}]}, "generic")  # fmt: skip
    incident = critical_incident()
    page = client_for(viewer).get(f"/incidents/{incident.pk}").content.decode()
    assert "silenced: inhibited by alert &#x27;HostDown&#x27; on db-07" in page


@pytest.mark.parametrize("incidents", [2, 40])
def test_the_marks_cost_four_queries_however_many_incidents(
    incidents, django_assert_max_num_queries
):
    from apps.console.silences import silence_marks

    InhibitionRule.objects.create(name="host-down", source_matchers=["alertname=HostDown"],
                                  target_matchers=["alertname!=HostDown"], equal=["host"])  # fmt: skip
    Silence.objects.create(matchers=[{"name": "host", "op": "=", "value": "db-1"}],
                           ends_at="2999-01-01T00:00:00Z", comment="c")  # fmt: skip
    ids = [critical_incident("DiskFull", f"db-{i}").pk for i in range(incidents)]
    with django_assert_max_num_queries(4):
        marks = silence_marks(ids)
    assert list(marks) == [ids[1]]


def test_silencing_a_host_less_incident_does_not_silence_that_alert_on_every_host(operator):
    from apps.alerts import silences

    hostless = ingest({"alerts": [{"name": "QueueStuck", "severity": "critical"}]}, "generic")
    assert hostless.incident.host == ""
    client_for(operator).post(f"/incidents/{hostless.incident.pk}/silence",
                              {"duration": "1h", "comment": "broker upgrade"})  # fmt: skip
    silence = Silence.objects.get()
    assert [(m["name"], m["op"], m["value"]) for m in silence.matchers] == [
        ("alertname", "=", "QueueStuck"), ("host", "=", "")]  # fmt: skip
    elsewhere = ingest({"alerts": [{"name": "QueueStuck", "host": "mq-02"}]}, "generic")
    assert silences.silencing(silences.alert_labels(elsewhere.incident.alerts.get()),
                              silence.starts_at, [silence]) is None  # fmt: skip
    assert silences.silencing(silences.alert_labels(hostless.incident.alerts.get()),
                              silence.starts_at, [silence]) is not None  # fmt: skip


def test_silencing_an_incident_of_several_hosts_holds_back_those_hosts_only(operator, settings):
    from apps.alerts import silences

    settings.INCIDENT_GROUP_BY = ["name"]
    alerts = [{"name": "NtpDrift", "host": host, "severity": "critical"}
              for host in ("web-01", "web-02.eu", "")]  # fmt: skip
    stored = ingest({"alerts": alerts}, "generic")
    client_for(operator).post(f"/incidents/{stored.incident.pk}/silence",
                              {"duration": "1h", "comment": "ntp fix"})  # fmt: skip
    silence = Silence.objects.get()
    assert [(m["name"], m["op"], m["value"]) for m in silence.matchers] == [
        ("alertname", "=", "NtpDrift"), ("host", "=~", r"|web\-01|web\-02\.eu")]  # fmt: skip

    def silenced(host):
        labels = {"alertname": "NtpDrift", **({"host": host} if host else {})}
        return silences.silencing(labels, silence.starts_at, [silence]) is not None

    assert [silenced(h) for h in ("web-01", "web-02.eu", "")] == [True, True, True]
    assert [silenced(h) for h in ("web-03", "web-02xeu", "web-01.x")] == [False, False, False]


def test_an_incident_of_too_many_hosts_for_one_matcher_is_refused_in_one_line(operator, settings):
    settings.INCIDENT_GROUP_BY = ["name"]
    alerts = [{"name": "NtpDrift", "host": f"host-{i:03d}.example.internal"} for i in range(60)]
    stored = ingest({"alerts": alerts}, "generic")
    page = client_for(operator).post(f"/incidents/{stored.incident.pk}/silence",
                                     {"duration": "1h", "comment": "x"}, follow=True)  # fmt: skip
    assert "60 values of host, too many for one matcher" in page.content.decode()
    assert not Silence.objects.exists()
