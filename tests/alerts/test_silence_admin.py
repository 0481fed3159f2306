"""The admin pages for silences and inhibition rules validate what they store."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from apps.alerts.models import InhibitionRule, Silence

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    user = User.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


def silence_form(**change):
    return {"matcher_text": 'alertname=DiskFull,host=~"web-0[1-7]"', "starts_at_0": "2026-12-04",
            "starts_at_1": "10:00:00", "ends_at_0": "2026-12-04", "ends_at_1": "12:00:00",
            "schedule": "", "duration_s": "", "time_zone": "UTC", "comment": "reboot",
            "created_by": "root", **change}  # fmt: skip


def test_a_silence_added_in_the_admin_is_parsed_and_listed(admin_client):
    response = admin_client.post("/admin/alerts/silence/add/", silence_form())
    assert response.status_code == 302, response.content.decode()[:2000]
    silence = Silence.objects.get()
    assert silence.matchers[1] == {"name": "host", "op": "=~", "value": "web-0[1-7]"}
    page = admin_client.get("/admin/alerts/silence/").content.decode()
    assert "web-0[1-7]" in page and "reboot" in page
    change = admin_client.get(f"/admin/alerts/silence/{silence.pk}/change/").content.decode()
    assert "alertname=&quot;DiskFull&quot;" in change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"matcher_text": "host=~(("}, "invalid regular expression"),
        ({"ends_at_0": "", "ends_at_1": ""}, "needs an end"),
        ({"schedule": "0 2 * *", "duration_s": "3600"}, "needs 5 fields"),
    ],
)
def test_bad_silences_are_refused(admin_client, change, message):
    response = admin_client.post("/admin/alerts/silence/add/", silence_form(**change))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Silence.objects.exists()


def test_inhibition_rules_are_validated(admin_client):
    form = {"name": "host-down", "source_matchers": '["alertname=HostDown"]',
            "target_matchers": '["severity=~(("]', "equal": '["host"]', "enabled": "on",
            "comment": ""}  # fmt: skip
    response = admin_client.post("/admin/alerts/inhibitionrule/add/", form)
    assert response.status_code == 200 and "target_matchers" in response.content.decode()
    assert not InhibitionRule.objects.exists()
    form["target_matchers"] = '["severity!=critical"]'
    assert admin_client.post("/admin/alerts/inhibitionrule/add/", form).status_code == 302
    assert InhibitionRule.objects.get().equal == ["host"]


def test_expiring_in_the_admin_records_who(admin_client):
    admin_client.post("/admin/alerts/silence/add/", silence_form())
    silence = Silence.objects.get()
    assert silence.expired_by == ""
    expired = silence_form(expired_at_0="2026-12-04", expired_at_1="11:00:00")
    response = admin_client.post(f"/admin/alerts/silence/{silence.pk}/change/", expired)
    assert response.status_code == 302, response.content.decode()[:2000]
    silence.refresh_from_db()
    assert silence.expired_at is not None and silence.expired_by == "root"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ends_at_1": "09:00:00"}, "the silence would end before it starts"),
        ({"comment": "   "}, "a comment is required"),
        ({"schedule": "0 2 * * SUN", "duration_s": "9999999"}, "may last at most 7d"),
        ({"schedule": "0 2 * * SUN", "duration_s": "3600", "time_zone": "Mars/Base"}, "Mars/Base"),
    ],
)
def test_the_admin_keeps_the_silence_services_rules(admin_client, change, message):
    response = admin_client.post("/admin/alerts/silence/add/", silence_form(**change))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Silence.objects.exists()


def test_a_silence_added_in_the_admin_is_created_by_the_admin_user(admin_client):
    form = silence_form(created_by="someone-else")
    assert admin_client.post("/admin/alerts/silence/add/", form).status_code == 302
    assert Silence.objects.get().created_by == "root"


def test_the_cli_records_the_login_name_when_no_created_by_is_given(monkeypatch):
    from io import StringIO

    from django.core.management import call_command

    monkeypatch.delenv("USER", raising=False)
    monkeypatch.delenv("SUDO_USER", raising=False)
    monkeypatch.setattr("getpass.getuser", lambda: "carla")
    call_command("silence", "add", "alertname=X", "--duration", "1h", "--comment", "test",
                 stdout=StringIO())  # fmt: skip
    assert Silence.objects.get().created_by == "carla"
