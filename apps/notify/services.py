"""Notify service: the public surface other apps and the commands use.

Validation lives in apps.notify.config, targets and secrets in apps.notify.targets, the claim,
throttle and send with retries in apps.notify.delivery (guarantees: docs/notify.md).
"""

import uuid
from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.common.redact import REDACTED
from apps.notify.config import NotifyConfigError, validate_notify_config
from apps.notify.delivery import INTERRUPTED, claim, deliver, run_pk, send_with_retries
from apps.notify.drivers import DRIVERS
from apps.notify.drivers.base import Message
from apps.notify.grouping import UNGROUPED_DRIVERS, group_settings, join
from apps.notify.messages import (
    build_model,
    is_resolved,
    normalise_context,
    render_message,
    template_variables,
)
from apps.notify.models import Delivery
from apps.notify.targets import (
    MissingSecret,
    Target,
    channel_target,
    render_inline,
    resolve_secrets,
    resolve_targets,
    targets_for,
)

__all__ = [
    "NotifyConfigError",
    "RetryRefused",
    "notify",
    "preview",
    "release_interrupted",
    "retry_delivery",
    "send_test",
    "validate_notify_config",
]

Status = Delivery.Status


def _incident_row(incident: Any, ctx: dict[str, Any]) -> Any:
    from apps.alerts.models import Incident

    if incident is not None:
        return incident
    incident_id = (ctx["incident"] or {}).get("id")
    if isinstance(incident_id, int) or (isinstance(incident_id, str) and incident_id.isdigit()):
        return Incident.objects.filter(pk=int(incident_id)).first()
    return None


def _run_key(pipeline_run: Any, ctx: dict[str, Any]) -> str:
    run_id = run_pk(pipeline_run) or ctx["run_id"]
    return f"run:{run_id}" if run_id else f"adhoc:{uuid.uuid4().hex}"


def notify(
    *,
    config,
    message_context,
    pipeline_run=None,
    node_id="",
    incident=None,
    trace_id="",
    deadline=None,
) -> dict:
    ctx = normalise_context(message_context)
    if trace_id and not ctx["trace_id"]:
        ctx["trace_id"] = trace_id
    if incident is not None and ctx["incident"] is None:
        ctx["incident"] = incident.as_dict()
    incident_row = _incident_row(incident, ctx)
    kind = "resolve" if is_resolved(ctx) else "trigger"
    targets = targets_for(config, incident_row, kind)
    run_key = _run_key(pipeline_run, ctx)
    quiet = quiet_verdict(incident_row, kind, trace_id or ctx["trace_id"] or "")
    grouping = group_settings(config)
    opened: list[dict[str, Any]] = []

    def hold_for(target: Target) -> Any:
        if kind != "trigger" or grouping.wait <= 0 or target.driver in UNGROUPED_DRIVERS:
            return None

        def hold(row: Delivery) -> dict[str, Any]:
            group, created = join(row, grouping, incident_row)
            entry = {"group": group.pk, "send_after": group.send_after.isoformat()}
            if created:
                opened.append(entry)
            return entry

        return hold

    deliveries = [
        deliver(
            target,
            ctx,
            kind,
            run_key=run_key,
            node_id=node_id or "notify",
            pipeline_run=pipeline_run,
            incident=incident_row,
            deadline=deadline,
            quiet=(quiet.kind, quiet.reason),
            hold=hold_for(target),
            repeat_s=grouping.repeat,
        )
        for target in targets
    ]
    result = summarize(config, deliveries)
    if quiet.reason:
        result["quiet"] = quiet.reason
    if opened:
        result["groups_opened"] = opened
    return result


def quiet_verdict(incident: Any, kind: str, trace_id: str) -> Any:
    """Whether a trigger page is silenced or inhibited; its alerts' events record it."""
    from apps.alerts.inhibition import Quiet, quiet_incident, record_quiet

    if kind != "trigger" or incident is None:
        return Quiet()
    quiet = quiet_incident(incident)
    if quiet.reason:
        record_quiet(quiet, trace_id)
    return quiet


def summarize(config: dict[str, Any], deliveries: list[dict[str, Any]]) -> dict[str, Any]:
    def count(status: str) -> int:
        return sum(1 for d in deliveries if d["status"] == status)

    drivers = list(dict.fromkeys(d["driver"] for d in deliveries if d["driver"]))
    not_attempted = ("skipped", Status.SILENCED, Status.INHIBITED)
    return {
        "driver": config.get("driver") or ",".join(drivers),
        "channels_attempted": sum(1 for d in deliveries if d["status"] not in not_attempted),
        "channels_succeeded": count(Status.SUCCEEDED),
        "channels_failed": count(Status.FAILED),
        "channels_throttled": count(Status.THROTTLED),
        "channels_silenced": count(Status.SILENCED),
        "channels_inhibited": count(Status.INHIBITED),
        "channels_grouped": count(Status.GROUPED),
        "deliveries": deliveries,
    }


def preview(config: dict, message_context: dict) -> list[dict]:
    """What would be sent to each target: nothing is sent and nothing is stored."""
    ctx = normalise_context(message_context)
    kind = "resolve" if is_resolved(ctx) else "trigger"
    incident = _incident_row(None, ctx)
    result = []
    for target in targets_for(config, incident, kind):
        item: dict[str, Any] = {"channel": target.label, "driver": target.driver, "kind": kind}
        if target.skip_reason:
            item |= {"destination": f"({target.skip_reason})", "title": "", "text": ""}
            result.append(item)
            continue
        model = build_model(ctx, kind)
        message, warning = render_message(
            ctx,
            model,
            title_template=target.title_template,
            message_template=target.message_template,
            html=False,
        )
        problem = render_inline(target, template_variables(ctx, model))
        destination = f"({problem})" if problem else target.destination()
        item |= {"destination": destination, "title": message.title, "text": message.text}
        if warning:
            item["warning"] = warning
        result.append(item)
    return result


# --- used by the management commands and the notifications queue ---------------------------


def test_context() -> dict[str, Any]:
    return {
        "payload": {
            "title": "Test notification",
            "host": settings.HOST_NAME,
            "severity": "info",
            "status": "test",
        },
        "trace_id": f"test-{uuid.uuid4().hex[:12]}",
        "source": "test_notify",
    }


def send_test(config: dict[str, Any]) -> dict[str, Any]:
    """Send a test message to the config's targets (no throttle, never deduplicated)."""
    ctx = normalise_context(test_context())
    run_key = f"test:{uuid.uuid4().hex}"
    deliveries = [
        deliver(
            target,
            ctx,
            "test",
            run_key=run_key,
            node_id="test_notify",
            pipeline_run=None,
            incident=None,
            deadline=None,
        )
        for target in resolve_targets(config)
    ]
    return summarize(config, deliveries)


class RetryRefused(Exception):
    pass


def retry_delivery(delivery: Delivery) -> Delivery:
    """Send a failed delivery again with the message it stored."""
    if delivery.status != Status.FAILED:
        raise RetryRefused(
            f"delivery {delivery.pk} is {delivery.status}; only failed deliveries can be retried"
        )
    if delivery.driver not in DRIVERS:
        raise RetryRefused(f"delivery {delivery.pk} has unknown driver {delivery.driver!r}")
    if delivery.channel is not None:
        target = channel_target(delivery.channel, {})
    else:
        target = Target(driver=delivery.driver, config=dict(delivery.target_config))
    if any(value == REDACTED for value in target.config.values()):
        raise RetryRefused(
            f"delivery {delivery.pk} went to an inline destination whose secret is not stored; "
            "use a named channel or an env: reference, or re-run the pipeline"
        )
    problem = target.missing()
    if problem:
        raise RetryRefused(f"delivery {delivery.pk}: {problem}")
    try:
        resolved, secrets = resolve_secrets(target.filled())
    except MissingSecret as exc:
        raise RetryRefused(f"delivery {delivery.pk}: {exc}") from exc
    if not claim(delivery.pk):
        raise RetryRefused(f"delivery {delivery.pk} is being sent by another worker")
    delivery.refresh_from_db()
    message = Message.from_dict(delivery.message)
    send_with_retries(delivery, target.module, resolved, message, secrets=secrets, deadline=None)
    return delivery


def release_interrupted(run_id: int) -> int:
    """Deliveries of a run left `sending` by a worker that died become retryable (failed).

    Called when a run is taken over or resumed: nothing else is sending for that run then.
    A send that was in flight may have arrived, so it can be sent again: at-least-once.
    """
    return Delivery.objects.filter(pipeline_run_id=run_id, status=Status.SENDING).update(
        status=Status.FAILED,
        last_error=INTERRUPTED,
        updated_at=timezone.now(),
    )
