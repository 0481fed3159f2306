"""The idempotency key is run + node + channel, whatever the destination resolved to."""

import pytest

from apps.notify.models import Delivery, NotificationChannel
from apps.notify.services import notify
from apps.orchestration.models import PipelineRun

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("named", [True, False])
def test_destination_configured_later_keeps_the_key(http_sink, monkeypatch, settings, named):
    settings.NOTIFY_MAX_ATTEMPTS = 1
    if named:
        NotificationChannel.objects.create(
            name="ops", driver="generic", config={"url": "env:OPS_URL"}
        )
        config = {"channel": "ops"}
    else:
        config = {"driver": "generic", "url": "env:OPS_URL"}
    run = PipelineRun.objects.create(trace_id="t", payload={})
    context = {"payload": {"server": "web-01"}, "run_id": run.pk}
    monkeypatch.delenv("OPS_URL", raising=False)
    first = notify(config=config, message_context=context, pipeline_run=run, node_id="n")
    assert first["channels_failed"] == 1
    monkeypatch.setenv("OPS_URL", f"{http_sink.url}/ops")
    second = notify(config=config, message_context=context, pipeline_run=run, node_id="n")
    assert second["channels_succeeded"] == 1
    third = notify(config=config, message_context=context, pipeline_run=run, node_id="n")
    assert third["deliveries"][0].get("already_done") is True
    assert Delivery.objects.count() == 1 and Delivery.objects.get().status == "succeeded"
    assert len(http_sink.requests) == 1
