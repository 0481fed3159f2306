"""test_notify and deliveries commands, through call_command."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.notify import services
from apps.notify.models import Delivery, NotificationChannel

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, no_color=True)
    return out.getvalue()


def test_test_notify_a_driver_with_options(http_sink):
    output = run("test_notify", "generic", "--option", f"url={http_sink.url}/t")
    assert "succeeded" in output and "attempts=1" in output
    body = http_sink.requests[0].json()
    assert body["kind"] == "test" and body["title"].startswith("[TEST] Test notification")
    assert Delivery.objects.get().kind == "test"


def test_test_notify_a_named_channel_twice_sends_twice(http_sink):
    NotificationChannel.objects.create(name="ops", driver="generic", config={"url": http_sink.url})
    run("test_notify", "ops")
    run("test_notify", "ops")
    assert len(http_sink.requests) == 2


def test_test_notify_email_with_comma_separated_to(smtp_sink):
    run("test_notify", "email", "-o", "to=a@example.com,b@example.com")
    assert smtp_sink.messages[0]["rcpt_tos"] == ["a@example.com", "b@example.com"]


def test_test_notify_failure_is_a_command_error(http_sink):
    http_sink.respond(403, "forbidden")
    with pytest.raises(CommandError, match=r"test notification failed for 1 of 1 channel\(s\)"):
        run("test_notify", "generic", "--option", f"url={http_sink.url}")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["nothing"],
            "no channel or driver named 'nothing' (drivers: console, email, generic, ntfy, pagerduty, slack; channels: none)",
        ),
        (["slack", "--option", "novalue"], "--option takes key=value, got 'novalue'"),
        (
            ["slack", "--option", "bogus=1"],
            "invalid notify config: unknown key 'bogus' for driver 'slack'",
        ),
        (["slack"], "test notification failed"),
    ],
)
def test_test_notify_bad_input(args, message):
    with pytest.raises(CommandError) as error:
        run("test_notify", *args)
    assert message in str(error.value)


def test_deliveries_lists_failed_in_an_aligned_table(http_sink, make_context):
    http_sink.respond(400, "bad")
    services.notify(
        config={"driver": "generic", "url": http_sink.url}, message_context=make_context(None)
    )
    http_sink.respond(200, "ok")
    services.notify(config={"driver": "console"}, message_context=make_context(None))
    output = run("deliveries", "--failed").splitlines()
    assert output[0].split() == [
        "ID",
        "CREATED",
        "DRIVER",
        "CHANNEL",
        "DESTINATION",
        "KIND",
        "STATUS",
        "TRIES",
        "CODE",
        "ERROR",
    ]
    assert len(output) == 2
    assert "generic" in output[1] and "failed" in output[1] and "400" in output[1]
    assert output[0].index("STATUS") == output[1].index("failed")
    everything = run("deliveries")
    assert "console" in everything and "succeeded" in everything


def test_deliveries_retry_resends_a_failed_delivery(http_sink, settings, make_context):
    settings.NOTIFY_MAX_ATTEMPTS = 1
    NotificationChannel.objects.create(name="ops", driver="generic", config={"url": http_sink.url})
    http_sink.respond(503, "down")
    services.notify(config={"channel": "ops"}, message_context=make_context(None, run_id="9"))
    row = Delivery.objects.get()
    assert row.status == "failed"
    http_sink.respond(200, "ok")
    output = run("deliveries", "--retry", str(row.pk))
    assert f"delivery {row.pk} sent" in output
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("succeeded", 2)
    assert http_sink.requests[1].json() == http_sink.requests[0].json()
    with pytest.raises(CommandError, match="only failed deliveries can be retried"):
        run("deliveries", "--retry", str(row.pk))


def test_deliveries_retry_of_env_default_destination(http_sink, settings, make_context):
    settings.SLACK_WEBHOOK_URL = ""
    services.notify(config={"driver": "slack"}, message_context=make_context(None))
    row = Delivery.objects.get()
    with pytest.raises(CommandError, match="set SLACK_WEBHOOK_URL"):
        run("deliveries", "--retry", str(row.pk))
    settings.SLACK_WEBHOOK_URL = http_sink.url + "/services/x"
    run("deliveries", "--retry", str(row.pk))
    assert len(http_sink.requests) == 1


def test_deliveries_retry_resends_an_inline_secret_kept_sealed(http_sink, settings, make_context):
    settings.NOTIFY_MAX_ATTEMPTS = 1
    http_sink.respond(500, "x")
    services.notify(
        config={"driver": "slack", "webhook_url": http_sink.url + "/s/t0ken-path"},
        message_context=make_context(None),
    )
    row = Delivery.objects.get()
    assert "t0ken-path" not in json.dumps(row.target_config)
    assert row.target_config["webhook_url"].startswith("sealed:v1:")
    http_sink.respond(200, "ok")
    run("deliveries", "--retry", str(row.pk))
    row.refresh_from_db()
    assert row.status == "succeeded"
    assert http_sink.requests[-1].path == "/s/t0ken-path"


def test_deliveries_retry_refuses_an_inline_secret_it_does_not_have(
    http_sink, settings, make_context
):
    settings.NOTIFY_MAX_ATTEMPTS = 1
    http_sink.respond(500, "x")
    services.notify(
        config={"driver": "slack", "webhook_url": http_sink.url + "/s/t"},
        message_context=make_context(None),
    )
    row = Delivery.objects.get()
    row.target_config = {"webhook_url": "***"}  # a row stored before secrets were sealed
    row.save()
    with pytest.raises(CommandError, match="secret is not stored"):
        run("deliveries", "--retry", str(row.pk))
    row.refresh_from_db()
    assert row.status == "failed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--retry", "abc"], "--retry takes a delivery id (a number), got 'abc'"),
        (["--retry", "999"], "delivery 999 does not exist"),
        (["--limit", "0"], "--limit must be between 1 and 100000"),
    ],
)
def test_deliveries_bad_input(args, message):
    with pytest.raises(CommandError) as error:
        run("deliveries", *args)
    assert message in str(error.value)


def test_deliveries_with_none():
    assert run("deliveries", "--failed").strip() == "no deliveries"
