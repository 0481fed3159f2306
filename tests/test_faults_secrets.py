"""Fault injection for secrets: inline notify secrets are sealed at rest (definitions, run
snapshots, deliveries, channels), every view shows ***, and sending, replay and resume still
decrypt them; alert labels lose API keys and URL passwords before they are stored."""

import itertools
import json

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from apps.alerts.models import Alert
from apps.common.models import ApiKey
from apps.common.sealed import MASK, SealError, unseal, unseal_all
from apps.notify.models import Delivery, NotificationChannel
from apps.orchestration import services
from apps.orchestration.models import PipelineDefinition, PipelineRun

SECRETS = {
    "path": "T0KEN-in-the-path",
    "hmac": "hmac-s3cret-value",
    "authorization": "Bearer abcdefgh-authz-value",
    "x_auth": "x-auth-value-123",
    "signature": "sig-value-456",
    "routing": "R0UTING-key-0123456789",
    "topic": "secret-topic-name",
}


def definition(sink_url: str) -> dict:
    headers = {
        "Authorization": SECRETS["authorization"],
        "X-Auth": SECRETS["x_auth"],
        "X-Custom-Signature": SECRETS["signature"],
    }
    return {
        "version": "1",
        "nodes": [
            {
                "id": "hook",
                "type": "notify",
                "config": {
                    "driver": "generic",
                    "url": f"{sink_url}/hook/{SECRETS['path']}",
                    "secret": SECRETS["hmac"],
                    "headers": headers,
                },
                "next": ["pd", "topic"],
            },
            {
                "id": "pd",
                "type": "notify",
                "config": {
                    "driver": "pagerduty",
                    "routing_key": SECRETS["routing"],
                    "events_url": f"{sink_url}/pd",
                },
            },
            {
                "id": "topic",
                "type": "notify",
                "config": {"driver": "ntfy", "url": f"{sink_url}/{SECRETS['topic']}"},
            },
        ],
    }


def assert_no_secret(text: str) -> None:
    for value in SECRETS.values():
        assert value not in text


KEY_NUMBERS = itertools.count()


class Api:
    def __init__(self, *scopes: str) -> None:
        _, raw = ApiKey.create_key(f"key-{next(KEY_NUMBERS)}", list(scopes))
        self.headers = {"Authorization": f"Bearer {raw}"}
        self.client = Client()

    def call(self, method: str, path: str, body=None):
        kwargs = {"headers": self.headers}
        if body is not None:
            kwargs |= {"data": json.dumps(body), "content_type": "application/json"}
        return getattr(self.client, method)(path, **kwargs)


@pytest.fixture
def stored(db, http_sink):
    writer = Api("write", "read", "execute")
    answer = writer.call(
        "post", "/api/definitions/", {"name": "secretive", "config": definition(http_sink.url)}
    )
    assert answer.status_code == 201, answer.content
    return writer


def test_definition_row_and_every_api_answer_hide_the_secrets(stored):
    row = PipelineDefinition.objects.get(name="secretive")
    assert_no_secret(json.dumps(row.config))
    hook = row.config["nodes"][0]["config"]
    assert unseal(hook["secret"]) == SECRETS["hmac"]
    for scopes in (("read",), ("write", "read"), ("read", "execute")):
        answer = Api(*scopes).call("get", "/api/definitions/secretive")
        assert answer.status_code == 200
        assert_no_secret(answer.content.decode())
        assert "sealed:v1:" not in answer.content.decode()
        assert answer.json()["config"]["nodes"][0]["config"]["secret"] == MASK
    listing = Api("read").call("get", "/api/definitions/")
    assert_no_secret(listing.content.decode())


def test_a_definition_sent_back_with_masks_keeps_its_secrets_and_version(stored):
    before = PipelineDefinition.objects.get(name="secretive")
    shown = stored.call("get", "/api/definitions/secretive").json()["config"]
    answer = stored.call("put", "/api/definitions/secretive", {"config": shown})
    assert answer.status_code == 200, answer.content
    after = PipelineDefinition.objects.get(name="secretive")
    assert after.version == before.version
    assert unseal_all(after.config) == unseal_all(before.config)


def test_a_mask_with_nothing_stored_is_refused(db):
    answer = Api("write").call(
        "post",
        "/api/definitions/",
        {
            "name": "masked",
            "config": {
                "version": "1",
                "nodes": [
                    {
                        "id": "n",
                        "type": "notify",
                        "config": {"driver": "pagerduty", "routing_key": MASK},
                    }
                ],
            },
        },
    )
    assert answer.status_code == 422
    assert "stands for a stored secret" in answer.content.decode()


def test_runs_send_with_the_real_secrets_and_store_none(stored, http_sink):
    answer = stored.call(
        "post", "/api/definitions/secretive/execute", {"payload": {"host": "web-1"}}
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "COMPLETED"
    assert_no_secret(answer.content.decode())
    paths = sorted(r.path for r in http_sink.requests)
    assert paths == sorted([f"/hook/{SECRETS['path']}", "/pd", f"/{SECRETS['topic']}"])
    hook = next(r for r in http_sink.requests if r.path.startswith("/hook"))
    assert hook.headers["Authorization"] == SECRETS["authorization"]
    assert hook.headers["X-Auth"] == SECRETS["x_auth"]
    pd = next(r for r in http_sink.requests if r.path == "/pd")
    assert pd.json()["routing_key"] == SECRETS["routing"]
    run = PipelineRun.objects.get()
    assert_no_secret(json.dumps(run.config_snapshot))
    for delivery in Delivery.objects.all():
        assert_no_secret(json.dumps(delivery.target_config))
        assert_no_secret(delivery.destination)
    assert_no_secret(json.dumps(Api("read").call("get", f"/api/runs/{run.pk}").json()))


def test_replay_and_resume_decrypt_at_send_time(stored, http_sink):
    run = services.replay_run(
        PipelineRun.objects.create(
            definition=PipelineDefinition.objects.get(name="secretive"),
            config_snapshot=PipelineDefinition.objects.get(name="secretive").config,
            payload={"host": "web-2"},
            status="FAILED",
        ).pk
    )
    assert run["status"] == "COMPLETED"
    assert any(r.path == f"/hook/{SECRETS['path']}" for r in http_sink.requests)
    http_sink.requests.clear()
    http_sink.respond(500, "down")
    failed = stored.call("post", "/api/definitions/secretive/execute", {"payload": {}}).json()
    assert failed["status"] == "FAILED"
    http_sink.respond(200, "ok")
    resumed = Api("execute").call("post", f"/api/runs/{failed['run_id']}/resume").json()
    assert resumed["status"] == "COMPLETED"
    assert any(r.path == f"/{SECRETS['topic']}" for r in http_sink.requests)


def test_a_changed_key_is_a_one_line_failure_not_a_leak(stored, http_sink, settings):
    settings.SECRETS_KEY = "another-key-entirely-" + "x" * 20
    settings.SECRET_KEY = "and-another-secret-key-" + "y" * 20
    with pytest.raises(SealError, match="cannot be decrypted"):
        unseal(
            PipelineDefinition.objects.get(name="secretive").config["nodes"][1]["config"][
                "routing_key"
            ]
        )
    answer = stored.call("post", "/api/definitions/secretive/execute", {"payload": {}})
    assert answer.status_code == 422  # the definition no longer validates: nothing is sent
    assert "cannot be decrypted" in answer.content.decode()
    assert http_sink.requests == []


def test_channels_are_sealed_and_shown_masked(db, admin_client):
    channel = NotificationChannel.objects.create(
        name="pd", driver="pagerduty", config={"routing_key": SECRETS["routing"]}
    )
    channel.refresh_from_db()
    assert_no_secret(json.dumps(channel.config))
    page = admin_client.get(f"/admin/notify/notificationchannel/{channel.pk}/change/")
    assert page.status_code == 200
    assert_no_secret(page.content.decode())


def test_admin_run_and_definition_pages_show_no_secret(stored, admin_client):
    stored.call("post", "/api/definitions/secretive/execute", {"payload": {}})
    run = PipelineRun.objects.get()
    definition_row = PipelineDefinition.objects.get(name="secretive")
    for url in (
        f"/admin/orchestration/pipelinerun/{run.pk}/change/",
        f"/admin/orchestration/pipelinedefinition/{definition_row.pk}/change/",
        f"/admin/notify/delivery/{Delivery.objects.first().pk}/change/",
    ):
        page = admin_client.get(url)
        assert page.status_code == 200, url
        assert_no_secret(page.content.decode())


def test_dry_runs_show_masks(stored, tmp_path, capsys):
    answer = stored.call("post", "/api/definitions/secretive/dry-run", {"payload": {}})
    assert answer.status_code == 200, answer.content
    assert_no_secret(answer.content.decode())
    assert "sealed:v1:" not in answer.content.decode()
    path = tmp_path / "file.json"
    path.write_text(json.dumps(definition("http://127.0.0.1:9")))
    call_command("run_pipeline", "--config", str(path), "--payload", "{}", "--dry-run", "--json")
    assert_no_secret(capsys.readouterr().out)


def test_export_shows_masks(stored, capsys):
    call_command("pipelines", "export", "secretive")
    out = capsys.readouterr().out
    assert_no_secret(out)
    assert MASK in out


@override_settings(INGEST_START_RUNS=False)
def test_alert_labels_lose_api_keys_and_url_passwords(db):
    _, raw = ApiKey.create_key("ingest", ["ingest"])
    body = {
        "version": "4",
        "groupKey": '{}:{alertname="Leak"}',
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": {
                    "alertname": "Leak",
                    "api_key": "LABEL-api-key-99",
                    "X-Auth-Token": "tok-123456789",
                },
                "annotations": {"runbook": "https://bob:pa55word-xyz@wiki.example.com/r"},
                "startsAt": "2026-01-01T00:00:00Z",
                "generatorURL": "https://alice:gen-pass-777@prom.example.com/graph",
            }
        ],
    }
    answer = Client().post(
        "/api/alerts/alertmanager/",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert answer.status_code in (200, 202), answer.content
    stored_alert = json.dumps(list(Alert.objects.values("labels", "annotations", "url")))
    for secret in ("LABEL-api-key-99", "tok-123456789", "pa55word-xyz", "gen-pass-777"):
        assert secret not in stored_alert
    assert "Leak" in stored_alert


def test_a_config_file_run_stores_its_secrets_sealed(db, http_sink, tmp_path):
    path = tmp_path / "secretive.json"
    path.write_text(json.dumps(definition(http_sink.url)))
    call_command("run_pipeline", "--config", str(path), "--payload", "{}", "--json")
    run = PipelineRun.objects.get()
    assert_no_secret(json.dumps(run.config_snapshot))
    assert any(r.path == f"/hook/{SECRETS['path']}" for r in http_sink.requests)


def test_the_migration_seals_secrets_stored_before(stored):
    import importlib

    from django.apps import apps as django_apps

    row = PipelineDefinition.objects.get(name="secretive")
    clear = unseal_all(row.config)
    PipelineDefinition.objects.filter(pk=row.pk).update(config=clear)  # as an old version stored it
    PipelineRun.objects.create(definition=row, config_snapshot=clear, payload={})
    migration = importlib.import_module("apps.orchestration.migrations.0004_seal_secrets")
    migration.seal_stored(django_apps, None)
    assert_no_secret(json.dumps(PipelineDefinition.objects.get(pk=row.pk).config))
    assert_no_secret(json.dumps(PipelineRun.objects.get().config_snapshot))
    assert unseal_all(PipelineDefinition.objects.get(pk=row.pk).config) == clear


@pytest.mark.parametrize("formatter", ["text", "json"])
def test_log_lines_and_tracebacks_are_redacted(settings, formatter):
    import logging

    from django.utils.module_loading import import_string

    config = dict(settings.LOGGING["formatters"][formatter])
    factory = import_string(config.pop("()"))
    handler_format = factory(**config)
    try:
        raise RuntimeError("POST https://hooks.slack.com/services/T0/B0/s3cretpath failed")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "apps.x",
            logging.ERROR,
            __file__,
            1,
            "auth was %s",
            ("Bearer abcdefgh-token-99",),
            sys.exc_info(),
        )
    record.trace_id = record.run_id = "-"
    line = handler_format.format(record)
    assert "abcdefgh-token-99" not in line
    assert "s3cretpath" not in line
    assert "***" in line
