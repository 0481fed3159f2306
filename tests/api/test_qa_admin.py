"""API keys can be deactivated from the admin (the docs promise a 401 for a deactivated key,
and nothing offered a way to deactivate one)."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from apps.common.models import ApiKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    user = User.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


def test_keys_are_listed_without_their_hash(admin_client):
    key, raw = ApiKey.create_key("alertmanager", ["ingest"])
    page = admin_client.get("/admin/common/apikey/").content.decode()
    assert "alertmanager" in page and key.prefix in page
    assert key.key_hash not in page and raw not in page
    change = admin_client.get(f"/admin/common/apikey/{key.pk}/change/").content.decode()
    assert key.key_hash not in change
    assert admin_client.get("/admin/common/apikey/add/").status_code == 403


def test_a_key_deactivated_in_the_admin_gets_401(admin_client):
    key, raw = ApiKey.create_key("ci", ["read"])
    headers = {"Authorization": f"Bearer {raw}"}
    assert Client().get("/api/runs/", headers=headers).status_code == 200
    response = admin_client.post(
        "/admin/common/apikey/",
        {"action": "deactivate", "_selected_action": [key.pk]},
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.is_active is False
    response = Client().get("/api/runs/", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_key"
