"""The silence pages: list, detail, create with a preview, expire; inhibition rules read-only.

The pages use apps.alerts.silences (what `manage.py silence` and /api/silences use): these tests
check what the console adds (forms, permissions, who is recorded, bounded queries)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.alerts import silences
from apps.alerts.models import InhibitionRule, Silence
from apps.alerts.services import ingest

from .test_pages import client_for, critical_incident

pytestmark = pytest.mark.django_db


def test_an_operator_previews_saves_and_expires_a_silence_and_who_is_recorded(operator):
    incident = critical_incident("DiskFull", "db-07")
    critical_incident("Load", "db-08")
    client = client_for(operator)
    page = client.get(f"/incidents/{incident.pk}").content.decode()
    assert 'href="/silences/new?matchers=host%3D%22db-07%22"' in page
    form = client.get('/silences/new?matchers=host="db-07"').content.decode()
    assert 'value="host=&quot;db-07&quot;"' in form
    assert "It would silence 1 firing alert(s)" in form and "DiskFull" in form
    assert "Load" not in form

    fields = {"matchers": 'host="db-07"', "duration": "2h", "comment": "disk swap tonight"}
    preview = client.post("/silences/new", {**fields, "preview": "1"}).content.decode()
    assert "It would silence 1 firing alert(s)" in preview and not Silence.objects.exists()

    response = client.post("/silences/new", {**fields, "save": "1"}, follow=True)
    silence = Silence.objects.get()
    assert (silence.created_by, silence.comment) == ("olga", "disk swap tonight")
    assert silence.matchers == [{"name": "host", "op": "=", "value": "db-07"}]
    assert response.redirect_chain[-1][0] == f"/silences/{silence.pk}"
    detail = response.content.decode()
    assert f"Silence #{silence.pk} added by olga" in detail
    assert "created by olga" in detail and 'id="silence-state">active<' in detail
    assert f"#{incident.pk} DiskFull on db-07" in detail
    assert f"silenced by silence #{silence.pk} (disk swap tonight" in detail
    assert 'class="mark sil"' in client.get("/").content.decode()
    listing = client.get("/silences").content.decode()
    assert listing.index('id="active"') < listing.index(f'data-silence="{silence.pk}"')
    assert listing.index(f'data-silence="{silence.pk}"') < listing.index('id="pending"')

    response = client.post(f"/silences/{silence.pk}/expire", follow=True)
    silence.refresh_from_db()
    assert silence.expired_at is not None and silence.expired_by == "olga"
    assert f"Silence #{silence.pk} expired by olga." in response.content.decode()
    assert "expired by olga at" in response.content.decode()
    assert 'class="mark sil"' not in client.get("/").content.decode()
    assert f'data-silence="{silence.pk}"' not in client.get("/silences").content.decode()
    ended = client.get("/silences?ended=1").content.decode()
    assert ended.index('id="ended"') < ended.index(f'data-silence="{silence.pk}"')
    again = client.post(f"/silences/{silence.pk}/expire", follow=True).content.decode()
    assert "has already ended" in again


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"matchers": 'host=~"web-(0"'}, "invalid regular expression"),
        ({"matchers": "host"}, "bad matcher format"),
        ({"matchers": ""}, "no matchers given"),
        ({"matchers": "host=db-07", "comment": ""}, "a comment is required"),
        ({"matchers": "host=db-07", "until": "2026-12-05 14:00"}, "not both"),
        ({"matchers": "host=db-07", "duration": "", "until": "soon"}, "is not a date and time"),
        ({"matchers": "host=db-07", "every": "0 2 * *"}, "needs 5 fields"),
        (
            {"matchers": "host=db-07", "every": "0 2 * * SUN", "tz": "Mars/Base"},
            "unknown time zone",
        ),
    ],
)
def test_bad_input_is_one_line_in_the_form_and_nothing_is_stored(operator, fields, error):
    data = {"duration": "2h", "comment": "why", "save": "1", **fields}
    response = client_for(operator).post("/silences/new", data)
    assert response.status_code == 200
    page = response.content.decode()
    shown = page.split('id="silence-error">', 1)[1].split("</p>", 1)[0]
    assert error.replace('"', "&quot;") in shown and "\n" not in shown
    assert "Traceback" not in page
    assert f'value="{fields["matchers"].replace(chr(34), "&quot;")}"' in page  # kept as typed
    assert not Silence.objects.exists()


def test_a_recurring_window_shows_its_next_start_in_its_own_time_zone(operator):
    client = client_for(operator)
    client.post("/silences/new", {"matchers": "alertname=Backup", "duration": "2h",
                                  "every": "0 2 * * SUN", "tz": "Europe/Berlin",
                                  "comment": "weekly backups", "save": "1"})  # fmt: skip
    silence = Silence.objects.get()
    assert (silence.schedule, silence.time_zone, silence.duration_s) == (
        "0 2 * * SUN", "Europe/Berlin", 7200)  # fmt: skip
    start = silences.next_start(silence, timezone.now())
    assert start is not None and start.astimezone(UTC).hour in (0, 1)  # 02:00 CEST or CET
    page = client.get(f"/silences/{silence.pk}").content.decode()
    local = start.astimezone(silences.cron.parse_zone("Europe/Berlin"))
    assert local.strftime("%Y-%m-%d 02:00 %Z") in page
    assert "<code>0 2 * * SUN</code> in Europe/Berlin, each window 2h" in page


def test_next_start_across_a_change_of_clocks_and_for_pending_and_ended_silences():
    window = Silence(matchers=[], schedule="0 2 * * SUN", duration_s=3600,
                     time_zone="Europe/Berlin",
                     starts_at=datetime(2026, 1, 1, tzinfo=UTC))  # fmt: skip
    # Saturday 28 March 2026: the next Sunday is the day clocks go forward (02:00 is skipped).
    saturday = datetime(2026, 3, 28, 12, tzinfo=UTC)
    assert silences.next_start(window, saturday) == datetime(2026, 3, 29, 1, tzinfo=UTC)
    summer = datetime(2026, 7, 1, tzinfo=UTC)
    assert silences.next_start(window, summer) == datetime(2026, 7, 5, 0, tzinfo=UTC)
    window.ends_at = datetime(2026, 7, 4, tzinfo=UTC)
    assert silences.next_start(window, summer) is None
    later = datetime(2027, 1, 1, tzinfo=UTC)
    pending = Silence(matchers=[], starts_at=later, ends_at=later + timedelta(hours=1))
    assert silences.next_start(pending, summer) == later
    assert silences.next_start(pending, later) is None


def test_a_pending_silence_is_listed_apart_and_matches_without_silencing(operator):
    incident = critical_incident()
    starts = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    client = client_for(operator)
    client.post("/silences/new", {"matchers": "host=db-07", "duration": "1h", "starts": starts,
                                  "comment": "tomorrow", "save": "1"})  # fmt: skip
    silence = Silence.objects.get()
    listing = client.get("/silences").content.decode()
    assert listing.index('id="pending"') < listing.index(f'data-silence="{silence.pk}"')
    detail = client.get(f"/silences/{silence.pk}").content.decode()
    assert "matches (not silenced: the silence is pending)" in detail
    assert f"#{incident.pk} DiskFull on db-07" in detail and "not silenced now" in detail


def test_viewers_see_the_pages_and_act_on_nothing(viewer, nobody):
    silence = silences.create(["host=db-07"], comment="c", duration="1h", created_by="olga")
    client = client_for(viewer)
    for path in ("/silences", f"/silences/{silence.pk}", "/silences/new", "/inhibitions"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert (
            "Expire" not in page.content.decode()
            and 'id="save-silence"' not in page.content.decode()
        )
    assert client.post("/silences/new", {"matchers": "a=b", "duration": "1h", "comment": "c",
                                         "save": "1"}).status_code == 403  # fmt: skip
    assert client.post(f"/silences/{silence.pk}/expire").status_code == 403
    assert Silence.objects.count() == 1 and Silence.objects.get().expired_at is None
    stranger = client_for(nobody)
    for path in ("/silences", f"/silences/{silence.pk}", "/silences/new", "/inhibitions"):
        assert stranger.get(path).status_code == 403, path
    assert Client().get("/silences")["Location"] == "/login/?next=/silences"
    assert client.get("/silences/999999").status_code == 404


def test_the_forms_refuse_a_post_without_the_csrf_token(operator):
    silence = silences.create(["host=db-07"], comment="c", duration="1h")
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    data = {"matchers": "a=b", "duration": "1h", "comment": "c", "save": "1"}
    assert client.post("/silences/new", data).status_code == 403
    assert client.post(f"/silences/{silence.pk}/expire").status_code == 403
    assert Silence.objects.count() == 1 and Silence.objects.get().expired_at is None


def test_inhibition_rules_are_listed_with_their_firing_sources(viewer):
    InhibitionRule.objects.create(name="host-down", source_matchers=["alertname=HostDown"],
                                  target_matchers=["alertname!=HostDown"], equal=["host"],
                                  comment="a dead host explains its symptoms")  # fmt: skip
    InhibitionRule.objects.create(name="off", source_matchers=["alertname=X"],
                                  target_matchers=["severity=info"], enabled=False)  # fmt: skip
    ingest({"alerts": [{"name": "HostDown", "host": "db-07", "status": "firing",
                        "severity": "critical"}]}, "generic")  # fmt: skip
    page = client_for(viewer).get("/inhibitions").content.decode()
    rows = page.split('<tr class="rule">')[1:]
    assert "host-down" in rows[0] and "<td>1</td>" in rows[0] and "a dead host" in rows[0]
    assert "off" in rows[1] and "<td>no</td>" in rows[1]
    assert "/admin/" not in page  # not staff: no admin link


def test_silence_pages_queries_stay_bounded(operator, django_assert_max_num_queries):
    for index in range(40):
        critical_incident("DiskFull", f"db-{index:02d}")
    InhibitionRule.objects.create(name="host-down", source_matchers=["alertname=HostDown"],
                                  target_matchers=["alertname!=HostDown"], equal=["host"])  # fmt: skip
    wide = silences.create(['host=~"db-.*"'], comment="all dbs", duration="1h")
    for index in range(30):
        silences.create([f"host=db-{index:02d}"], comment="one", duration="1h",
                        every="0 2 * * SUN" if index % 2 else None)  # fmt: skip
        if index % 3 == 0:
            silences.expire(Silence.objects.order_by("-id").first().pk)
    client = client_for(operator)
    client.get("/")  # the session and permission caches are warm from here on
    pages = {
        "/silences": 5,
        "/silences?ended=1": 5,
        f"/silences/{wide.pk}": 11,
        '/silences/new?matchers=host=~"db-.*"': 5,
        "/inhibitions": 6,
    }
    for path, limit in pages.items():
        with django_assert_max_num_queries(limit):
            assert client.get(path).status_code == 200, path
    with django_assert_max_num_queries(6):
        client.post("/silences/new", {"matchers": "host=db-01", "duration": "1h",
                                      "comment": "c", "save": "1"})  # fmt: skip
