"""Console pages given odd but storable input: host names with "/", spaces or non-ASCII,
NUL characters in filters and paths (PostgreSQL refuses them), and deeply nested JSON."""

import pytest
from django.test import Client

from apps.alerts.models import Incident
from apps.alerts.services import ingest
from apps.hosts.models import Host

pytestmark = pytest.mark.django_db

ODD_HOSTS = ("eu-west/db-01", "rack 4 db", "hôte-ü/01", "a?b#c%20")


def incident_on(host: str, name: str = "SlashHost") -> Incident:
    payload = {"alerts": [{"name": name, "host": host, "status": "firing"}]}
    return ingest(payload, "generic").incident


@pytest.fixture
def client(viewer) -> Client:
    client = Client()
    client.force_login(viewer)
    return client


@pytest.mark.parametrize("host", ODD_HOSTS)
def test_a_host_name_with_a_slash_space_or_unicode_has_working_pages_and_links(client, host):
    incident = incident_on(host)
    assert incident.host == host
    Host.objects.create(name=host)
    for path in ("/", "/?status=all", f"/incidents/{incident.pk}", "/hosts"):
        response = client.get(path)
        assert response.status_code == 200, path
    from django.urls import reverse

    url = reverse("console:host", args=[host])
    assert url in client.get("/").content.decode()
    page = client.get(url)
    assert page.status_code == 200
    assert f"Host {host}" in page.content.decode().replace("&#x27;", "'")
    assert incident.title in page.content.decode()


@pytest.mark.parametrize("query", ("host=%00", "source=%00", "host=db%00x&status=all"))
def test_a_nul_in_a_now_filter_is_refused_not_a_server_error(client, query):
    incident_on("db-01")
    response = client.get(f"/?{query}")
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_a_nul_in_a_host_path_is_no_such_host(client):
    Host.objects.create(name="ab")
    assert client.get("/hosts/a%00b").status_code == 404
    assert client.get("/hosts/ab").status_code == 200
