"""Config validation, channel validation on save, preview (dry-run), admin redaction."""

import pytest
from django.core.exceptions import ValidationError

from apps.common.sealed import unseal_all
from apps.notify import services
from apps.notify.admin import ChannelForm, NotificationChannelAdmin
from apps.notify.models import Delivery, NotificationChannel

pytestmark = pytest.mark.django_db
validate = services.validate_notify_config


def test_valid_configs_have_no_problems():
    NotificationChannel.objects.create(name="ops", driver="console")
    for config in [
        {"driver": "console"},
        {"driver": "slack"},
        {"driver": "slack", "webhook_url": "https://hooks.slack.com/services/T/B/X"},
        {"driver": "slack", "webhook_url": "{{ payload.url }}"},
        {"driver": "slack", "webhook_url": "env:SLACK_OPS_URL"},
        {
            "driver": "generic",
            "url": "https://example.com/h",
            "headers": {"X-A": "b"},
            "secret": "env:SIGNING",
        },
        {"driver": "pagerduty", "routing_key": "env:PD_KEY", "events_url": "https://e.example/v2"},
        {
            "driver": "email",
            "to": ["ops@example.com", "Ops <ops2@example.com>"],
            "from": "bot@example.com",
        },
        {"driver": "ntfy", "url": "https://ntfy.sh/topic", "priority": 5},
        {"driver": "ntfy", "url": "https://ntfy.sh/topic", "priority": "urgent"},
        {"driver": "console", "title": "{{ message.title }}", "message": "{{ payload | tojson }}"},
        {"channel": "ops"},
        {"channels": ["ops"], "title": "x"},
        {"driver": "console", "title": "{{ run.id }} {{ nodes.analyze.output.summary }}"},
    ]:
        assert validate(config) == [], config


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        (
            {"driver": "x"},
            "unknown notify driver 'x' (known: console, email, generic, ntfy, pagerduty, slack)",
        ),
        (
            {"driver": "slack", "url": "https://x.example"},
            "unknown key 'url' for driver 'slack' (allowed: message, title, webhook_url)",
        ),
        (
            {"driver": "slack", "webhook_url": "not a url"},
            "'webhook_url' must be an http(s) URL with a host, got 'not a url'",
        ),
        (
            {"driver": "slack", "webhook_url": "ftp://x.example/a"},
            "'webhook_url' must be an http(s) URL with a host, got 'ftp://x.example/a'",
        ),
        ({"driver": "slack", "webhook_url": 5}, "'webhook_url' must be a non-empty string URL"),
        (
            {"driver": "generic", "url": "https://x.example:99999/"},
            "'url' is not a valid URL: 'https://x.example:99999/'",
        ),
        (
            {"driver": "generic", "url": "https://x.example", "headers": ["a"]},
            "'headers' must be an object of header names to string values",
        ),
        (
            {"driver": "generic", "url": "https://x.example", "headers": {"Content-Type": "x"}},
            "'headers': 'Content-Type' is set by the driver and cannot be overridden",
        ),
        (
            {"driver": "generic", "url": "https://x.example", "secret": ""},
            "'secret' must be a non-empty string",
        ),
        (
            {"driver": "email", "to": "ops@example.com"},
            "'to' must be a non-empty list of e-mail addresses",
        ),
        ({"driver": "email", "to": ["nope"]}, "'to': 'nope' is not a valid e-mail address"),
        (
            {"driver": "ntfy", "url": "https://ntfy.sh/t", "priority": 9},
            "'priority' must be 1-5 or one of min, low, default, high, max, urgent, got 9",
        ),
        (
            {"driver": "console", "title": "{{ message.title"},
            "'title' template syntax error: unexpected end of template, expected 'end of print statement'. (line 1)",
        ),
        (
            {"driver": "console", "message": "{{ mesage.title }}"},
            "'message' template uses unknown variable(s) mesage (available: message, payload, incident, alerts, analysis, context, run_id, trace_id, source, environment, definition, run, nodes)",
        ),
        ({"driver": "console", "title": 3}, "'title' must be a template string, got int"),
        (
            {"driver": "slack", "webhook_url": "{{ payload.url"},
            "'webhook_url': template syntax error: unexpected end of template, expected 'end of print statement'. (line 1)",
        ),
        (
            {"driver": "generic", "url": "env:lower-case"},
            "'url': 'env:lower-case' is not a valid env: reference (use env:VAR_NAME)",
        ),
        ({"channel": "missing"}, "notification channel 'missing' does not exist"),
        ({"channels": []}, "'channels' must be a non-empty list of channel names"),
        ({"channels": ["a", 3]}, "'channels' must hold channel names (non-empty strings)"),
        ({"channel": ""}, "'channel' must be a non-empty channel name"),
        ({}, "notify config needs 'driver', 'channel' or 'channels'"),
        (
            {"driver": "console", "channel": "x"},
            "give either 'driver' (with inline settings) or 'channel'/'channels', not both",
        ),
        ("slack", "notify config must be an object, got str"),
    ],
)
def test_problems(config, problem):
    assert problem in validate(config)


def test_channel_is_validated_on_save():
    with pytest.raises(ValidationError) as error:
        NotificationChannel.objects.create(name="bad", driver="slack", config={"webhook": "x"})
    assert "unknown key 'webhook' for driver 'slack'" in str(error.value)
    with pytest.raises(ValidationError):
        NotificationChannel(name="bad", driver="sms").save()
    with pytest.raises(ValidationError):
        NotificationChannel(name="bad", driver="console", config={"title": "{% if %}"}).save()
    assert NotificationChannel.objects.count() == 0


def test_preview_shows_the_plan_without_sending_or_storing(http_sink, make_context):
    NotificationChannel.objects.create(
        name="chat", driver="generic", config={"url": http_sink.url + "/p/secret"}
    )
    plan = services.preview({"channels": ["chat"]}, make_context(None))
    assert plan == [
        {
            "channel": "chat",
            "driver": "generic",
            "kind": "trigger",
            "destination": f"{http_sink.url}/…",
            "title": "[CRITICAL] High CPU Temperature on web-01",
            "text": plan[0]["text"],
        }
    ]
    assert plan[0]["text"].startswith("Severity: critical\nStatus:   firing\n")
    assert http_sink.requests == [] and Delivery.objects.count() == 0


def test_preview_of_an_unconfigured_driver_still_shows_the_plan(make_context):
    (item,) = services.preview({"driver": "slack"}, make_context(None, analysis=None))
    assert item["destination"] == (
        "(not configured: set SLACK_WEBHOOK_URL or create an enabled slack channel)"
    )
    assert item["title"] == "[CRITICAL] High CPU Temperature on web-01"
    assert "No analysis available." in item["text"]


def test_preview_never_shows_secrets(monkeypatch, make_context):
    monkeypatch.setenv("PD_KEY", "0123456789abcdef0123456789abcdef")
    (item,) = services.preview(
        {"driver": "pagerduty", "routing_key": "env:PD_KEY"}, make_context(None)
    )
    assert item["destination"] == "https://events.pagerduty.com/… (env:PD_KEY)"
    (item,) = services.preview(
        {"driver": "pagerduty", "routing_key": "0123456789abcdef0123456789abcdef"},
        make_context(None),
    )
    assert "0123456789abcdef" not in str(item)


def test_admin_form_shows_config_redacted_and_keeps_the_secret_on_save():
    channel = NotificationChannel.objects.create(
        name="pd", driver="pagerduty", config={"routing_key": "realkey-0123456789", "title": "x"}
    )
    form = ChannelForm(instance=channel)
    assert "realkey" not in str(form["config"])
    assert "***" in str(form["config"])
    data = {
        "name": "pd",
        "driver": "pagerduty",
        "enabled": "on",
        "config": '{"routing_key": "***", "title": "new title"}',
    }
    form = ChannelForm(data, instance=channel)
    assert form.is_valid(), form.errors
    form.save()
    channel.refresh_from_db()
    assert unseal_all(channel.config) == {"routing_key": "realkey-0123456789", "title": "new title"}
    assert "realkey" not in str(channel.config)  # stored sealed
    listed = NotificationChannelAdmin(NotificationChannel, None).redacted_config(channel)
    assert "realkey" not in listed


def test_admin_form_rejects_an_invalid_config():
    data = {"name": "x", "driver": "ntfy", "enabled": "on", "config": '{"url": "nope"}'}
    form = ChannelForm(data)
    assert not form.is_valid()
    assert "'url' must be an http(s) URL with a host" in form.errors["config"][0]
