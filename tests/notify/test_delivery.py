"""Delivery guarantees: retries, idempotency, throttling, resolve, secrets, address policy."""

import json
import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from apps.notify import services
from apps.notify.delivery import claim, claim_stale_s
from apps.notify.models import Delivery, NotificationChannel
from apps.orchestration.models import PipelineRun

pytestmark = pytest.mark.django_db


def generic(url: str, **extra) -> dict:
    return {"driver": "generic", "url": url, **extra}


def single(result: dict) -> dict:
    (delivery,) = result["deliveries"]
    return delivery


# --- retries ----------------------------------------------------------------------------------


def test_5xx_is_retried_until_it_succeeds(http_sink, make_context):
    http_sink.script((503, {}, b"busy"), (502, {}, b"bad gateway"), (200, {}, b"ok"))
    result = services.notify(config=generic(http_sink.url), message_context=make_context(None))
    delivery = single(result)
    assert (delivery["status"], delivery["attempts"], delivery["response_code"]) == (
        "succeeded",
        3,
        200,
    )
    assert len(http_sink.requests) == 3
    assert result["channels_succeeded"] == 1 and result["channels_failed"] == 0


def test_5xx_exhausting_attempts_fails_the_channel_without_raising(
    http_sink, settings, make_context
):
    settings.NOTIFY_MAX_ATTEMPTS = 2
    http_sink.respond(500, "boom")
    result = services.notify(config=generic(http_sink.url), message_context=make_context(None))
    delivery = single(result)
    assert delivery["status"] == "failed" and delivery["attempts"] == 2
    assert delivery["error"] == f"HTTP 500 from {http_sink.url}: boom"
    assert result["channels_failed"] == 1
    row = Delivery.objects.get()
    assert (row.status, row.attempts, row.response_code) == ("failed", 2, 500)


def test_4xx_is_not_retried(http_sink, make_context):
    http_sink.respond(400, '{"error":"invalid payload"}')
    delivery = single(
        services.notify(config=generic(http_sink.url), message_context=make_context(None))
    )
    assert delivery["status"] == "failed" and delivery["attempts"] == 1
    assert delivery["response_code"] == 400
    assert len(http_sink.requests) == 1


def test_429_honours_retry_after(http_sink, settings, make_context):
    settings.NOTIFY_BACKOFF_MAX_S = 2.0
    http_sink.script((429, {"Retry-After": "1"}, b"slow down"), (200, {}, b"ok"))
    started = time.monotonic()
    delivery = single(
        services.notify(config=generic(http_sink.url), message_context=make_context(None))
    )
    elapsed = time.monotonic() - started
    assert delivery["status"] == "succeeded" and delivery["attempts"] == 2
    assert elapsed >= 0.95, elapsed


def test_429_retry_after_is_capped_by_notify_backoff_max(http_sink, settings, make_context):
    settings.NOTIFY_BACKOFF_MAX_S = 0.1
    http_sink.script((429, {"Retry-After": "3600"}, b""), (200, {}, b"ok"))
    started = time.monotonic()
    delivery = single(
        services.notify(config=generic(http_sink.url), message_context=make_context(None))
    )
    assert delivery["status"] == "succeeded"
    assert time.monotonic() - started < 1.5


def test_timeout_is_retried_then_fails(http_sink, settings, make_context):
    settings.OUTBOUND_TIMEOUT_S = 0.2
    settings.NOTIFY_MAX_ATTEMPTS = 2
    http_sink.delay_s = 0.5
    delivery = single(
        services.notify(config=generic(http_sink.url), message_context=make_context(None))
    )
    assert delivery["status"] == "failed" and delivery["attempts"] == 2
    assert delivery["error"].startswith("timed out after 0.2s")


def test_connect_error_is_retried(settings, make_context):
    settings.OUTBOUND_ALLOW_PRIVATE = True
    delivery = single(
        services.notify(
            config=generic("http://127.0.0.1:1/hook"), message_context=make_context(None)
        )
    )
    assert delivery["status"] == "failed" and delivery["attempts"] == 3
    assert delivery["error"].startswith("cannot connect to http://127.0.0.1:1/…")


def test_deadline_stops_retries(http_sink, settings, make_context):
    settings.NOTIFY_BACKOFF_S = 1.0
    settings.NOTIFY_BACKOFF_MAX_S = 1.0
    http_sink.respond(503, "busy")
    started = time.monotonic()
    delivery = single(
        services.notify(
            config=generic(http_sink.url),
            message_context=make_context(None),
            deadline=time.monotonic() + 0.3,
        )
    )
    assert time.monotonic() - started < 1.5
    assert delivery["status"] == "failed" and delivery["attempts"] == 1
    assert "deadline" in delivery["error"]


def test_a_past_deadline_sends_nothing(http_sink, make_context):
    delivery = single(
        services.notify(
            config=generic(http_sink.url),
            message_context=make_context(None),
            deadline=time.monotonic() - 1,
        )
    )
    assert delivery["status"] == "failed" and delivery["attempts"] == 0
    assert delivery["error"] == "deadline reached before attempt 1"
    assert http_sink.requests == []


# --- destinations and policy ----------------------------------------------------------------


def test_private_address_is_refused_with_how_to_allow_it(settings, make_context):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    result = services.notify(
        config=generic("http://127.0.0.1:9/hook"), message_context=make_context(None)
    )
    delivery = single(result)
    assert delivery["status"] == "failed" and delivery["attempts"] == 1
    assert "set OUTBOUND_ALLOW_PRIVATE=1 to allow it" in delivery["error"]
    assert result["channels_failed"] == 1


def test_no_destination_fails_naming_what_to_set(make_context):
    result = services.notify(config={"driver": "slack"}, message_context=make_context(None))
    delivery = single(result)
    assert delivery["status"] == "failed" and delivery["attempts"] == 0
    assert delivery["error"] == (
        "no slack destination: set SLACK_WEBHOOK_URL or create an enabled slack channel"
    )
    assert Delivery.objects.get().status == "failed"


def test_driver_config_sends_to_enabled_channels_of_that_driver(http_sink, make_context):
    NotificationChannel.objects.create(
        name="a", driver="generic", config={"url": http_sink.url + "/a"}
    )
    NotificationChannel.objects.create(
        name="b", driver="generic", config={"url": http_sink.url + "/b"}
    )
    NotificationChannel.objects.create(
        name="off", driver="generic", config={"url": http_sink.url + "/off"}, enabled=False
    )
    result = services.notify(config={"driver": "generic"}, message_context=make_context(None))
    assert result["channels_succeeded"] == 2
    assert sorted(r.path for r in http_sink.requests) == ["/a", "/b"]


def test_named_channels_missing_and_disabled(http_sink, make_context):
    NotificationChannel.objects.create(name="ok", driver="generic", config={"url": http_sink.url})
    NotificationChannel.objects.create(
        name="muted", driver="generic", config={"url": http_sink.url}, enabled=False
    )
    result = services.notify(
        config={"channels": ["ok", "muted", "gone"]}, message_context=make_context(None)
    )
    by_channel = {d["channel"]: d for d in result["deliveries"]}
    assert by_channel["ok"]["status"] == "succeeded"
    assert by_channel["muted"]["status"] == "skipped"
    assert by_channel["gone"]["status"] == "failed"
    assert by_channel["gone"]["error"] == "notification channel 'gone' does not exist"
    assert (result["channels_attempted"], result["channels_failed"]) == (2, 1)
    assert len(http_sink.requests) == 1


# --- secrets ----------------------------------------------------------------------------------


def test_env_secrets_are_resolved_at_send_time_and_never_stored(
    http_sink, monkeypatch, make_context
):
    secret_url = f"{http_sink.url}/T000/B000/tokentokentoken"
    monkeypatch.setenv("TEAM_HOOK_URL", secret_url)
    monkeypatch.setenv("TEAM_SIGNING_SECRET", "sign-me-please-123")
    config = generic(
        "env:TEAM_HOOK_URL",
        secret="env:TEAM_SIGNING_SECRET",
        headers={"Authorization": "Bearer abcdefghijklmnop"},
    )
    result = services.notify(config=config, message_context=make_context(None))
    assert single(result)["status"] == "succeeded"
    assert http_sink.requests[0].path == "/T000/B000/tokentokentoken"
    assert http_sink.requests[0].headers["Authorization"] == "Bearer abcdefghijklmnop"
    stored = json.dumps(list(Delivery.objects.values()), default=str)
    for secret in ("tokentokentoken", "sign-me-please-123", "abcdefghijklmnop"):
        assert secret not in stored
        assert secret not in json.dumps(result)
    assert Delivery.objects.get().target_config["url"] == "env:TEAM_HOOK_URL"


def test_literal_secrets_are_not_stored_and_scrubbed_from_errors(http_sink, make_context):
    http_sink.respond(404, "no such hook /services/XYZSECRETXYZ")
    config = {"driver": "slack", "webhook_url": f"{http_sink.url}/services/XYZSECRETXYZ"}
    result = services.notify(config=config, message_context=make_context(None))
    delivery = single(result)
    assert delivery["status"] == "failed"
    stored = json.dumps(list(Delivery.objects.values()), default=str)
    assert "XYZSECRETXYZ" not in stored and "XYZSECRETXYZ" not in json.dumps(result)
    assert "***" in delivery["error"]


def test_missing_env_variable_fails_the_delivery_with_its_name(
    http_sink, monkeypatch, make_context
):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    delivery = single(
        services.notify(config=generic("env:NOT_SET_ANYWHERE"), message_context=make_context(None))
    )
    assert delivery["status"] == "failed"
    assert (
        delivery["error"]
        == "environment variable NOT_SET_ANYWHERE is not set (url: env:NOT_SET_ANYWHERE)"
    )


# --- idempotency --------------------------------------------------------------------------------


def test_rerun_of_the_same_run_and_node_does_not_send_again(http_sink, make_context):
    run = PipelineRun.objects.create(trace_id="t-1")
    ctx = make_context(None, run_id=str(run.pk))
    first = services.notify(
        config=generic(http_sink.url), message_context=ctx, pipeline_run=run, node_id="notify_ops"
    )
    second = services.notify(
        config=generic(http_sink.url), message_context=ctx, pipeline_run=run, node_id="notify_ops"
    )
    assert len(http_sink.requests) == 1
    assert single(second)["status"] == "succeeded" and single(second)["already_done"] is True
    assert second["channels_succeeded"] == 1
    row = Delivery.objects.get()
    assert row.pipeline_run == run and row.node_id == "notify_ops"
    assert single(first)["delivery_id"] == row.pk
    other_node = services.notify(
        config=generic(http_sink.url), message_context=ctx, pipeline_run=run, node_id="notify_other"
    )
    assert single(other_node)["status"] == "succeeded" and len(http_sink.requests) == 2


def test_resume_sends_only_to_channels_that_have_not_succeeded(http_sink, settings, make_context):
    settings.NOTIFY_MAX_ATTEMPTS = 1
    NotificationChannel.objects.create(
        name="good", driver="generic", config={"url": http_sink.url + "/good"}
    )
    NotificationChannel.objects.create(
        name="flaky", driver="generic", config={"url": http_sink.url + "/flaky"}
    )
    ctx = make_context(None, run_id="77")
    http_sink.script((200, {}, b"ok"), (503, {}, b"down"), (200, {}, b"ok"))
    first = services.notify(
        config={"channels": ["good", "flaky"]}, message_context=ctx, node_id="n"
    )
    assert (first["channels_succeeded"], first["channels_failed"]) == (1, 1)
    second = services.notify(
        config={"channels": ["good", "flaky"]}, message_context=ctx, node_id="n"
    )
    assert (second["channels_succeeded"], second["channels_failed"]) == (2, 0)
    assert [r.path for r in http_sink.requests] == ["/good", "/flaky", "/flaky"]
    flaky = Delivery.objects.get(channel__name="flaky")
    assert (flaky.status, flaky.attempts) == ("succeeded", 2)


def test_without_a_run_every_call_is_its_own_delivery(http_sink, make_context):
    services.notify(config=generic(http_sink.url), message_context=make_context(None))
    services.notify(config=generic(http_sink.url), message_context=make_context(None))
    assert len(http_sink.requests) == 2 and Delivery.objects.count() == 2


def test_claim_is_exclusive():
    row = Delivery.objects.create(driver="generic", idempotency_key="k", status="failed")
    assert claim(row.pk) is True
    assert claim(row.pk) is False
    Delivery.objects.filter(pk=row.pk).update(status="succeeded")
    assert claim(row.pk) is False


def test_an_abandoned_sending_row_can_be_claimed_again():
    stale = timezone.now() - timezone.timedelta(seconds=claim_stale_s() + 1)
    row = Delivery.objects.create(
        driver="generic", idempotency_key="k", status="sending", updated_at=stale
    )
    assert claim(row.pk) is True


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_of_the_same_node_send_once(http_sink, make_context):
    http_sink.delay_s = 0.3
    ctx = make_context(None, run_id="500")
    results: list[dict] = []

    def run() -> None:
        try:
            results.append(
                services.notify(config=generic(http_sink.url), message_context=ctx, node_id="n")
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(http_sink.requests) == 1
    assert [r["channels_succeeded"] for r in results] == [1, 1, 1]
    assert Delivery.objects.count() == 1


# --- throttle -----------------------------------------------------------------------------------


def test_same_incident_same_channel_is_throttled(incident, http_sink, make_context):
    config = generic(http_sink.url)
    services.notify(config=config, message_context=make_context(incident, run_id="1"))
    second = services.notify(config=config, message_context=make_context(incident, run_id="2"))
    delivery = single(second)
    assert delivery["status"] == "throttled"
    assert second["channels_throttled"] == 1 and second["channels_failed"] == 0
    assert "NOTIFY_THROTTLE_S=900" in delivery["error"]
    assert len(http_sink.requests) == 1
    assert Delivery.objects.filter(status="throttled").count() == 1


def test_throttle_identifies_a_named_channel_and_inline_config_by_destination(
    incident, http_sink, make_context
):
    NotificationChannel.objects.create(name="ops", driver="generic", config={"url": http_sink.url})
    services.notify(config={"channel": "ops"}, message_context=make_context(incident, run_id="1"))
    inline = services.notify(
        config=generic(http_sink.url), message_context=make_context(incident, run_id="2")
    )
    assert single(inline)["status"] == "throttled"


def test_severity_rise_breaks_through_the_throttle(incident, http_sink, make_context):
    config = generic(http_sink.url)
    incident.severity = "warning"
    incident.save()
    services.notify(config=config, message_context=make_context(incident, run_id="1"))
    incident.severity = "critical"
    incident.save()
    second = services.notify(config=config, message_context=make_context(incident, run_id="2"))
    assert single(second)["status"] == "succeeded"
    assert len(http_sink.requests) == 2


def test_throttle_window_expires(incident, http_sink, settings, make_context):
    config = generic(http_sink.url)
    services.notify(config=config, message_context=make_context(incident, run_id="1"))
    Delivery.objects.update(sent_at=timezone.now() - timezone.timedelta(seconds=901))
    second = services.notify(config=config, message_context=make_context(incident, run_id="2"))
    assert single(second)["status"] == "succeeded"


def test_other_incident_is_not_throttled(incident, http_sink, make_context):
    from apps.alerts.models import Incident

    other = Incident.objects.create(title="Disk full", host="web-02", group_key="d")
    config = generic(http_sink.url)
    services.notify(config=config, message_context=make_context(incident, run_id="1"))
    second = services.notify(config=config, message_context=make_context(other, run_id="2"))
    assert single(second)["status"] == "succeeded"


# --- resolve ------------------------------------------------------------------------------------


def test_resolve_goes_to_channels_that_were_notified_and_once_only(
    incident, http_sink, make_context
):
    NotificationChannel.objects.create(
        name="pd",
        driver="pagerduty",
        config={"routing_key": "k" * 32, "events_url": http_sink.url + "/pd"},
    )
    NotificationChannel.objects.create(
        name="chat", driver="generic", config={"url": http_sink.url + "/chat"}
    )
    services.notify(
        config={"channels": ["pd", "chat"]}, message_context=make_context(incident, run_id="1")
    )
    incident.status = "resolved"
    incident.save()
    # The resolve run's definition only names the chat channel: PagerDuty still gets its resolve.
    resolved = services.notify(
        config={"channel": "chat"}, message_context=make_context(incident, run_id="2")
    )
    assert resolved["channels_succeeded"] == 2
    assert {d["channel"]: d["kind"] for d in resolved["deliveries"]} == {
        "chat": "resolve",
        "pd": "resolve",
    }
    pd_bodies = [r.json() for r in http_sink.requests if r.path == "/pd"]
    assert [b["event_action"] for b in pd_bodies] == ["trigger", "resolve"]
    assert pd_bodies[1]["dedup_key"] == pd_bodies[0]["dedup_key"] == f"incident-{incident.pk}"
    chat = [r.json() for r in http_sink.requests if r.path == "/chat"]
    assert chat[1]["kind"] == "resolve" and chat[1]["title"].startswith("[RESOLVED] ")
    assert chat[1]["text"].startswith("Resolved: High CPU Temperature\n")
    # A second resolve run (another node or a duplicate webhook) is throttled, not re-sent.
    again = services.notify(
        config={"channel": "chat"}, message_context=make_context(incident, run_id="3")
    )
    assert again["channels_throttled"] == 2 and again["channels_succeeded"] == 0
    assert len(http_sink.requests) == 4


def test_resolved_after_throttle_is_sent_even_inside_the_window(incident, http_sink, make_context):
    config = generic(http_sink.url)
    services.notify(config=config, message_context=make_context(incident, run_id="1"))
    incident.status = "resolved"
    incident.save()
    result = services.notify(config=config, message_context=make_context(incident, run_id="2"))
    assert single(result)["status"] == "succeeded" and single(result)["kind"] == "resolve"


def test_message_without_analysis_or_incident_is_complete(http_sink, make_context):
    ctx = make_context(
        None,
        analysis=None,
        context=None,
        alerts=[],
        payload={"title": "Backup failed", "server": "db-7", "severity": "warning"},
    )
    services.notify(config=generic(http_sink.url), message_context=ctx)
    body = http_sink.requests[0].json()
    assert body["title"] == "[WARNING] Backup failed on db-7"
    assert body["host"] == "db-7"
    assert "No analysis available." in body["text"]
    assert body["dedup_key"].startswith("payload-")


def test_host_from_context_and_title_from_definition_when_the_payload_has_none(
    http_sink, make_context
):
    ctx = make_context(
        None, analysis=None, alerts=[], payload={}, definition={"name": "nightly-checks"}
    )
    services.notify(config=generic(http_sink.url), message_context=ctx)
    body = http_sink.requests[0].json()
    assert body["title"] == "[UNKNOWN] nightly-checks on web-01"
    assert "Host checks (1 ok, 1 critical):\n- cpu: critical - CPU 97%" in body["text"]


def test_custom_templates_from_node_config(http_sink, make_context):
    config = generic(
        http_sink.url,
        title="{{ message.severity }}: {{ message.title }}",
        message="Host {{ message.host }} ({{ source }})",
    )
    services.notify(config=config, message_context=make_context(None))
    body = http_sink.requests[0].json()
    assert (body["title"], body["text"]) == (
        "critical: High CPU Temperature",
        "Host web-01 (alertmanager)\n",
    )


def test_a_template_that_fails_to_render_falls_back_to_the_default(http_sink, make_context):
    config = generic(http_sink.url, message="{{ analysis.summary }}")
    result = services.notify(config=config, message_context=make_context(None, analysis=None))
    delivery = single(result)
    assert delivery["status"] == "succeeded"
    assert "message template failed, default used" in delivery["warning"]
    assert "No analysis available." in http_sink.requests[0].json()["text"]


def test_templated_inline_url_is_rendered_from_the_run_data(http_sink, make_context):
    ctx = make_context(None, payload={"title": "x", "hook": f"{http_sink.url}/from-payload"})
    result = services.notify(
        config={"driver": "generic", "url": "{{ payload.hook }}", "title": "run {{ run.id }}"},
        message_context=ctx | {"run_id": "5"},
    )
    assert single(result)["status"] == "succeeded"
    assert http_sink.requests[0].path == "/from-payload"
    assert http_sink.requests[0].json()["title"] == "run 5"


def test_a_templated_url_that_cannot_render_fails_the_delivery(make_context):
    result = services.notify(
        config={"driver": "generic", "url": "{{ payload.missing }}"},
        message_context=make_context(None),
    )
    delivery = single(result)
    assert delivery["status"] == "failed" and delivery["attempts"] == 0
    assert delivery["error"].startswith("cannot render the generic config: undefined value")
