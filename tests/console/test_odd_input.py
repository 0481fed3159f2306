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


DEEP = "[" * 5000 + "]" * 5000


@pytest.fixture
def definition(db):
    from apps.orchestration.models import PipelineDefinition

    from .seed import CONFIG

    return PipelineDefinition.objects.create(name="qa", config=CONFIG)


def test_deeply_nested_json_in_validate_or_the_dry_run_is_a_one_line_error(client, definition):
    pasted = client.post("/definitions/qa", {"config": DEEP})
    assert pasted.status_code == 200
    assert "not JSON: JSON is nested too deeply" in pasted.content.decode()
    dry = client.post("/definitions/qa", {"payload": DEEP, "source": "api"})
    assert dry.status_code == 200
    assert "the payload is not JSON: JSON is nested too deeply" in dry.content.decode()


def test_a_file_written_by_pipelines_export_validates_in_the_console(client, definition, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("pipelines", "export", "qa", stdout=out)
    path = tmp_path / "qa.json"
    path.write_text(out.getvalue())
    call_command("pipelines", "validate", str(path), stdout=StringIO())  # the CLI accepts it
    page = client.post("/definitions/qa", {"config": path.read_text()}).content.decode()
    assert 'id="validate-result">Valid.' in page
    broken = path.read_text().replace('"name": "qa"', '"name": "bad name"')
    page = client.post("/definitions/qa", {"config": broken}).content.decode()
    assert "Invalid definition name: &#x27;bad name&#x27;" in page


@pytest.mark.parametrize(
    ("payload", "kind"), (("[1, 2]", "an array of non-objects"), ('"str"', "a string"))
)
def test_the_dry_run_refuses_payloads_run_pipeline_refuses(client, definition, payload, kind):
    page = client.post("/definitions/qa", {"payload": payload, "source": "api"}).content.decode()
    assert f"Payload must be a JSON object or array of alert objects, not {kind}" in page
