"""The webhooks are in the OpenAPI document, and what they answer matches what it says."""

import json
from pathlib import Path

import jsonschema
import pytest
from django.test import Client

from apps.alerts.vendors import vendor_names

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"


@pytest.fixture
def document(db):
    return Client().get("/api/openapi.json").json()


def operation(document, path):
    return document["paths"][path]["post"]


def test_both_webhook_paths_are_documented(document):
    detect = operation(document, "/api/alerts/")
    named = operation(document, "/api/alerts/{source}/")
    assert detect["security"] == named["security"] == [{"ScopedApiKey": []}]
    assert set(named["parameters"][0]["schema"]["enum"]) == {*vendor_names(), "checks"}
    assert {"202", "400", "401", "403", "404", "413", "503"} <= set(named["responses"])


def test_an_accepted_webhook_matches_the_documented_answer(document, make_client, settings):
    settings.INGEST_START_RUNS = False
    body = json.loads(next((PAYLOADS / "alertmanager").glob("*.json")).read_text())
    answer = make_client("ingest").post("/api/alerts/alertmanager/", body)
    assert answer.status_code == 202, answer.content
    documented = operation(document, "/api/alerts/{source}/")["responses"]["202"]
    jsonschema.validate(answer.json(), documented["content"]["application/json"]["schema"])


@pytest.mark.parametrize(
    ("path", "key_scopes", "status"),
    [
        ("/api/alerts/nagios/", ("ingest",), 404),
        ("/api/alerts/generic/", (), 401),
        ("/api/alerts/generic/", ("read",), 403),
    ],
)
def test_errors_are_the_documented_codes_and_shape(document, make_client, path, key_scopes, status):
    client = make_client(*key_scopes) if key_scopes else Client()
    if key_scopes:
        answer = client.post(path, {"name": "x", "status": "firing"})
    else:
        answer = client.post(path, "{}", content_type="application/json")
    assert answer.status_code == status
    documented = operation(document, "/api/alerts/{source}/")["responses"][str(status)]
    assert set(answer.json()) >= {"code", "message"}
    assert documented["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }
