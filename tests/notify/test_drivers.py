"""Each driver against a real local server, asserting the exact wire payload."""

import hashlib
import hmac
import json
import time

import pytest

from apps.notify import services
from apps.notify.models import Delivery

pytestmark = pytest.mark.django_db

EXPECTED_TEXT = """\
Severity: critical
Status:   open
Host:     web-01
Started:  2020-02-06T00:18:00+00:00

CPU core temperature is 34.75C

Analysis: CPU temperature on web-01 is above the threshold on two cores.
Probable cause: A stuck fan or a runaway process heating the CPU.

Recommendations:
1. Check fans [high]: Look at the fan RPM sensors.
   $ sensors
2. Find hot processes [medium]: List the top CPU users.
   $ ps aux --sort=-%cpu | head
3. Clean dust [low]: Schedule maintenance.
4. Fourth [low]: Not shown in Slack.

Host checks (1 ok, 1 critical):
- cpu: critical - CPU 97%

2 alerts: High CPU Temperature, High CPU Temperature

trace trace-abc123 · test
"""
EXPECTED_TITLE = "[CRITICAL] High CPU Temperature on web-01"


def verify_signature(secret: str, headers: dict[str, str], body: bytes, max_age_s: int = 300):
    """What a receiver does (the example in docs/notify.md)."""
    timestamp = headers["X-Signature-Timestamp"]
    if abs(time.time() - int(timestamp)) > max_age_s:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest("sha256=" + expected.hexdigest(), headers["X-Signature-256"])


def only_delivery(result: dict) -> dict:
    assert result["channels_attempted"] == 1, result
    return result["deliveries"][0]


def test_console_writes_title_and_text_to_stderr(incident, capsys, make_context):
    result = services.notify(config={"driver": "console"}, message_context=make_context(incident))
    delivery = only_delivery(result)
    assert delivery["status"] == "succeeded"
    assert delivery["destination"] == "stderr"
    assert capsys.readouterr().err == f"{EXPECTED_TITLE}\n{EXPECTED_TEXT}\n"


def test_generic_posts_the_json_body_and_a_verifiable_signature(incident, http_sink, make_context):
    config = {
        "driver": "generic",
        "url": f"{http_sink.url}/hook",
        "secret": "s3cr3t-value",
        "headers": {"X-Team": "ops"},
    }
    result = services.notify(config=config, message_context=make_context(incident), node_id="n")
    assert only_delivery(result)["status"] == "succeeded"
    (request,) = http_sink.requests
    assert request.method == "POST" and request.path == "/hook"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Team"] == "ops"
    assert verify_signature("s3cr3t-value", request.headers, request.body)
    assert not verify_signature("wrong-secret", request.headers, request.body)
    assert not verify_signature("s3cr3t-value", request.headers, request.body + b" ")
    assert request.json() == {
        "version": 1,
        "kind": "trigger",
        "title": EXPECTED_TITLE,
        "text": EXPECTED_TEXT,
        "severity": "critical",
        "status": "open",
        "host": "web-01",
        "started_at": "2020-02-06T00:18:00+00:00",
        "description": "CPU core temperature is 34.75C",
        "link": "",
        "summary": "CPU temperature on web-01 is above the threshold on two cores.",
        "probable_cause": "A stuck fan or a runaway process heating the CPU.",
        "recommendations": [
            {
                "title": "Check fans",
                "detail": "Look at the fan RPM sensors.",
                "priority": "high",
                "commands": ["sensors"],
            },
            {
                "title": "Find hot processes",
                "detail": "List the top CPU users.",
                "priority": "medium",
                "commands": ["ps aux --sort=-%cpu | head"],
            },
            {
                "title": "Clean dust",
                "detail": "Schedule maintenance.",
                "priority": "low",
                "commands": [],
            },
            {"title": "Fourth", "detail": "Not shown in Slack.", "priority": "low", "commands": []},
        ],
        "dedup_key": f"incident-{incident.pk}",
        "incident_id": incident.pk,
        "run_id": "",
        "trace_id": "trace-abc123",
        "source": "alertmanager",
        "environment": "test",
    }


def test_generic_without_secret_sends_no_signature_headers(http_sink, make_context):
    config = {"driver": "generic", "url": http_sink.url}
    services.notify(config=config, message_context=make_context(None))
    (request,) = http_sink.requests
    assert "X-Signature-256" not in request.headers
    assert "X-Signature-Timestamp" not in request.headers


def test_slack_posts_text_and_blocks(incident, http_sink, settings, make_context):
    settings.PUBLIC_BASE_URL = "https://incidents.example.com"
    ctx = make_context(incident, run_id="42")
    result = services.notify(
        config={"driver": "slack", "webhook_url": f"{http_sink.url}/services/T0/B0/XYZ"},
        message_context=ctx,
    )
    delivery = only_delivery(result)
    assert delivery["status"] == "succeeded"
    assert delivery["destination"] == f"{http_sink.url}/…"
    body = http_sink.requests[0].json()
    assert body["text"].startswith(EXPECTED_TITLE + "\nSeverity: critical\n")
    link = f"https://incidents.example.com/incidents/{incident.pk}"
    assert body["blocks"] == [
        {"type": "header", "text": {"type": "plain_text", "text": EXPECTED_TITLE}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": "*Severity*\n:red_circle: critical"},
                {"type": "mrkdwn", "text": "*Status*\nopen"},
                {"type": "mrkdwn", "text": "*Host*\nweb-01"},
                {"type": "mrkdwn", "text": "*Started*\n2020-02-06T00:18:00+00:00"},
            ],
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "CPU temperature on web-01 is above the threshold on two cores.\n"
                "*Probable cause:* A stuck fan or a runaway process heating the CPU.",
            },
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "*Recommendations*\n• *Check fans*: Look at the fan RPM sensors.\n"
                "• *Find hot processes*: List the top CPU users.\n"
                "• *Clean dust*: Schedule maintenance.",
            },
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"trace `trace-abc123` · run 42 · <{link}|open incident>",
                }
            ],
        },
    ]


def test_slack_without_analysis_still_has_the_alert_facts(http_sink, make_context):
    ctx = make_context(None, analysis=None, context=None)
    services.notify(config={"driver": "slack", "webhook_url": http_sink.url}, message_context=ctx)
    body = http_sink.requests[0].json()
    assert body["blocks"][0]["text"]["text"] == EXPECTED_TITLE
    assert body["blocks"][2]["text"]["text"] == "CPU core temperature is 34.75C"
    assert "No analysis available." in body["text"]


def test_pagerduty_trigger_then_resolve_with_the_same_dedup_key(incident, http_sink, make_context):
    config = {
        "driver": "pagerduty",
        "routing_key": "R0UTINGKEY0000000000000000000000",
        "events_url": f"{http_sink.url}/v2/enqueue",
    }
    http_sink.respond(202, b'{"status":"success","dedup_key":"x"}')
    trigger = services.notify(config=config, message_context=make_context(incident, run_id="1"))
    assert only_delivery(trigger)["status"] == "succeeded"
    assert only_delivery(trigger)["response_code"] == 202
    first = http_sink.requests[0].json()
    assert first == {
        "routing_key": "R0UTINGKEY0000000000000000000000",
        "event_action": "trigger",
        "dedup_key": f"incident-{incident.pk}",
        "payload": {
            "summary": EXPECTED_TITLE,
            "source": "web-01",
            "severity": "critical",
            "component": "alertmanager",
            "custom_details": {
                "status": "open",
                "description": "CPU core temperature is 34.75C",
                "summary": "CPU temperature on web-01 is above the threshold on two cores.",
                "probable_cause": "A stuck fan or a runaway process heating the CPU.",
                "recommendations": first["payload"]["custom_details"]["recommendations"],
                "text": EXPECTED_TEXT.replace("· test", "· run 1 · test"),
                "run_id": "1",
                "trace_id": "trace-abc123",
                "environment": "test",
            },
        },
        "client": "incident-pipeline",
    }
    assert [r["title"] for r in first["payload"]["custom_details"]["recommendations"]] == [
        "Check fans",
        "Find hot processes",
        "Clean dust",
    ]
    incident.status = "resolved"
    incident.save()
    resolve = services.notify(config=config, message_context=make_context(incident, run_id="2"))
    assert only_delivery(resolve)["status"] == "succeeded"
    assert only_delivery(resolve)["kind"] == "resolve"
    assert http_sink.requests[1].json() == {
        "routing_key": "R0UTINGKEY0000000000000000000000",
        "event_action": "resolve",
        "dedup_key": f"incident-{incident.pk}",
    }


def test_pagerduty_dedup_key_without_incident_is_stable_from_the_payload(http_sink, make_context):
    config = {"driver": "pagerduty", "routing_key": "k" * 32, "events_url": http_sink.url}
    services.notify(config=config, message_context=make_context(None, run_id="1"))
    services.notify(config=config, message_context=make_context(None, run_id="2"))
    keys = [r.json()["dedup_key"] for r in http_sink.requests]
    assert keys[0] == keys[1] == "payload-groupKey-{}/{}:{}"


def test_email_sends_text_and_html_parts_over_smtp(incident, smtp_sink, make_context):
    config = {
        "driver": "email",
        "to": ["ops@example.com", "oncall@example.com"],
        "from": "Incidents <incidents@example.com>",
    }
    result = services.notify(config=config, message_context=make_context(incident))
    delivery = only_delivery(result)
    assert delivery["status"] == "succeeded", delivery
    assert delivery["destination"] == "ops@example.com, oncall@example.com"
    (sent,) = smtp_sink.messages
    assert sent["mail_from"] == "incidents@example.com"
    assert sent["rcpt_tos"] == ["ops@example.com", "oncall@example.com"]
    mail = smtp_sink.parsed()
    assert mail["Subject"] == EXPECTED_TITLE
    assert mail["X-Incident-Key"] == f"incident-{incident.pk}"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert text.replace("\r\n", "\n") == EXPECTED_TEXT
    assert f"<h2>{EXPECTED_TITLE}</h2>" in html
    assert "<li><b>Check fans</b> [high]: Look at the fan RPM sensors." in html
    assert "ps aux --sort=-%cpu | head" in html


def test_email_html_escapes_payload_content(smtp_sink, make_context):
    ctx = make_context(None, analysis={"summary": "<script>alert(1)</script>"})
    services.notify(config={"driver": "email", "to": ["ops@example.com"]}, message_context=ctx)
    html = smtp_sink.parsed().get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_email_to_defaults_to_notify_email_to(smtp_sink, settings, make_context):
    settings.NOTIFY_EMAIL_TO = ["team@example.com"]
    settings.NOTIFY_EMAIL_FROM = "bot@example.com"
    result = services.notify(config={"driver": "email"}, message_context=make_context(None))
    assert only_delivery(result)["status"] == "succeeded"
    assert smtp_sink.messages[0]["rcpt_tos"] == ["team@example.com"]
    assert smtp_sink.messages[0]["mail_from"] == "bot@example.com"


def test_email_to_a_dead_smtp_server_fails_after_retries(settings, make_context):
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1
    result = services.notify(
        config={"driver": "email", "to": ["ops@example.com"]}, message_context=make_context(None)
    )
    delivery = only_delivery(result)
    assert delivery["status"] == "failed"
    assert delivery["attempts"] == 3
    assert "127.0.0.1:1" in delivery["error"]


def test_ntfy_posts_text_with_title_priority_and_tags(incident, http_sink, make_context):
    result = services.notify(
        config={"driver": "ntfy", "url": f"{http_sink.url}/incidents-topic"},
        message_context=make_context(incident),
    )
    assert only_delivery(result)["status"] == "succeeded"
    (request,) = http_sink.requests
    assert request.path == "/incidents-topic"
    assert request.body.decode() == EXPECTED_TEXT
    assert request.headers["Title"] == EXPECTED_TITLE
    assert request.headers["Priority"] == "5"
    assert request.headers["Tags"] == "rotating_light,critical"


def test_ntfy_priority_from_config_and_unicode_title(http_sink, make_context):
    ctx = make_context(
        None, payload={"title": "Disk füll ⚠", "host": "db-1", "severity": "info"}, alerts=[]
    )
    services.notify(
        config={"driver": "ntfy", "url": http_sink.url, "priority": "high"}, message_context=ctx
    )
    headers = http_sink.requests[0].headers
    assert headers["Priority"] == "4"
    from email.header import decode_header, make_header

    assert str(make_header(decode_header(headers["Title"]))) == "[INFO] Disk füll ⚠ on db-1"


def test_env_defaults_are_used_when_the_config_names_no_destination(
    http_sink, settings, make_context
):
    settings.SLACK_WEBHOOK_URL = f"{http_sink.url}/from-env"
    result = services.notify(config={"driver": "slack"}, message_context=make_context(None))
    assert only_delivery(result)["status"] == "succeeded"
    assert http_sink.requests[0].path == "/from-env"
    stored = Delivery.objects.get()
    assert "from-env" not in json.dumps(stored.target_config)
