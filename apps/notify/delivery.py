"""Sending to one target with the delivery guarantees (see docs/notify.md).

A Delivery row exists before each send; one idempotency key per run + node + kind + target,
claimed atomically so a retried, resumed or concurrent node never sends twice for a key that
succeeded; retries with backoff for errors that can pass, all within the node's deadline;
throttling per incident and target; secrets resolved only at send time and never stored.
"""

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from types import ModuleType
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from apps.common import metrics
from apps.common.redact import redact
from apps.common.retry import Backoff, attempt_timeout, sleep_before_retry
from apps.common.severity import rank
from apps.notify.drivers.base import Message, SendError
from apps.notify.messages import build_model, render_message, template_variables
from apps.notify.models import Delivery
from apps.notify.targets import (
    MissingSecret,
    Target,
    channel_key,
    render_inline,
    resolve_secrets,
    scrub,
    stored_target_config,
    target_identity,
)

logger = logging.getLogger(__name__)

Status = Delivery.Status
INTERRUPTED = "interrupted: the worker stopped while sending (it may have been delivered)"
AFTER_INTERRUPTION = "sent after an interrupted attempt (the earlier one may have arrived too)"
# A row in one of these was settled: a redelivered node never sends it again.
DONE = (Status.SUCCEEDED, Status.THROTTLED, Status.SILENCED, Status.INHIBITED, Status.GROUPED)


# --- throttle -------------------------------------------------------------------------------


def throttle_reason(
    incident: Any, identity: str, kind: str, severity: str, window_s: float | None = None
) -> str:
    """Why this send is throttled ("" when it is not). A rise in severity re-notifies.

    The window is NOTIFY_THROTTLE_S, or the node's repeat_interval when it sets one."""
    if incident is None or kind not in ("trigger", "resolve"):
        return ""
    last = (
        Delivery.objects.filter(
            incident=incident,
            target=identity,
            status=Status.SUCCEEDED,
            kind__in=("trigger", "resolve"),
        )
        .order_by("-sent_at", "-id")
        .first()
    )
    if last is None:
        return ""
    if kind == "resolve":
        return "resolved notice already sent" if last.kind == "resolve" else ""
    if last.kind == "resolve" or last.sent_at is None:
        return ""
    age = (timezone.now() - last.sent_at).total_seconds()
    window = settings.NOTIFY_THROTTLE_S if window_s is None else window_s
    setting = "NOTIFY_THROTTLE_S" if window_s is None else "repeat_interval"
    rose = rank(severity) > rank(last.severity)
    if age >= window or rose:
        return ""
    return (
        f"incident already notified here {age:.0f}s ago (delivery {last.pk}, severity "
        f"{last.severity}); {setting}={window:g}"
    )


# --- claim ----------------------------------------------------------------------------------


def claim_stale_s() -> float:
    """A row left in `sending` longer than any send could take belongs to a dead worker."""
    per_attempt = settings.OUTBOUND_TIMEOUT_S + settings.NOTIFY_BACKOFF_MAX_S
    return settings.NOTIFY_MAX_ATTEMPTS * per_attempt + 30


def claim(delivery_id: int) -> bool:
    """Atomically take a pending/failed (or abandoned) delivery for sending."""
    now = timezone.now()
    stale = now - timedelta(seconds=claim_stale_s())
    claimable = Q(status__in=(Status.PENDING, Status.FAILED)) | Q(
        status=Status.SENDING, updated_at__lt=stale
    )
    updated = Delivery.objects.filter(claimable, pk=delivery_id).update(
        status=Status.SENDING, updated_at=now
    )
    return updated == 1


def _wait_for_other_sender(row: Delivery, deadline: float | None) -> Delivery:
    give_up = time.monotonic() + claim_stale_s()
    if deadline is not None:
        give_up = min(give_up, deadline)
    while time.monotonic() < give_up:
        row.refresh_from_db()
        if row.status != Status.SENDING:
            break
        time.sleep(0.1)
    return row


# --- sending --------------------------------------------------------------------------------


def send_with_retries(
    row: Delivery,
    module: ModuleType,
    config: dict[str, Any],
    message: Message,
    *,
    secrets: list[str],
    deadline: float | None,
) -> None:
    """Attempt until success, a non-retryable error, NOTIFY_MAX_ATTEMPTS or the deadline.

    No attempt starts, and no wait begins, that would pass the deadline; each attempt's timeout
    is cut to what is left of it (apps.common.retry)."""
    started = time.monotonic()
    max_attempts = max(1, settings.NOTIFY_MAX_ATTEMPTS)
    backoff = Backoff(settings.NOTIFY_BACKOFF_S, settings.NOTIFY_BACKOFF_MAX_S, jitter=True)
    error = ""
    interrupted = row.last_error.startswith(INTERRUPTED)
    for attempt in range(1, max_attempts + 1):
        timeout = attempt_timeout(settings.OUTBOUND_TIMEOUT_S, deadline)
        if timeout is None:
            error = f"{error}; " if error else ""
            error += f"deadline reached before attempt {attempt}"
            break
        row.attempts += 1
        # On record before the send: a worker that dies inside it leaves an honest count.
        Delivery.objects.filter(pk=row.pk).update(attempts=row.attempts)
        try:
            code = module.send(config, message, timeout=timeout)
        except SendError as exc:
            error, row.response_code = scrub(str(exc), secrets), exc.response_code
            row.last_error, row.updated_at = error, timezone.now()
            row.save(update_fields=["attempts", "last_error", "response_code", "updated_at"])
            if not exc.retryable:
                row.refused = True  # for the node: another run of it cannot help either
                break
            if attempt == max_attempts:
                break
            delay = backoff.delay(attempt, exc.retry_after_s)
            if not sleep_before_retry(delay, deadline):
                error += f"; not retried: a retry in {delay:.1f}s would pass the node deadline"
                break
            continue
        except Exception as exc:  # a driver bug must fail this delivery, not the whole node
            logger.exception("notify driver %s crashed", module.NAME)
            error = scrub(f"driver error: {type(exc).__name__}: {exc}", secrets)
            break
        row.status, row.response_code = Status.SUCCEEDED, code
        row.last_error = AFTER_INTERRUPTION if interrupted else ""
        row.sent_at = timezone.now()
        break
    if row.status != Status.SUCCEEDED:
        row.status, row.last_error = Status.FAILED, error or "not sent"
    row.duration_ms = round((time.monotonic() - started) * 1000, 1)
    row.updated_at = timezone.now()
    row.save()


def report(row: Delivery | None, target: Target, **extra: Any) -> dict[str, Any]:
    """One target's entry in a notify result (row None: the target was skipped)."""
    if row is None:
        return {
            "channel": target.label,
            "driver": target.driver,
            "destination": "",
            "status": "skipped" if target.skip_reason == "disabled" else Status.FAILED,
            "attempts": 0,
            "response_code": None,
            "error": target.skip_reason,
            **extra,
        }
    return {
        "channel": target.label,
        "driver": row.driver,
        "destination": row.destination,
        "status": row.status,
        "attempts": row.attempts,
        "response_code": row.response_code,
        "error": row.last_error,
        "kind": row.kind,
        "delivery_id": row.pk,
        **({"retryable": False} if getattr(row, "refused", False) else {}),
        **extra,
    }


def run_pk(pipeline_run: Any) -> int | None:
    """The engine passes a PipelineRun; an id is accepted too."""
    if isinstance(pipeline_run, int):
        return pipeline_run
    return getattr(pipeline_run, "pk", None)


def deliver(
    target: Target,
    ctx: dict[str, Any],
    kind: str,
    *,
    run_key: str,
    node_id: str,
    pipeline_run: Any,
    incident: Any,
    deadline: float | None,
    quiet: tuple[str, str] = ("", ""),
    hold: Callable[[Delivery], dict[str, Any]] | None = None,
    repeat_s: float | None = None,
) -> dict[str, Any]:
    """Render, claim and send to one target; returns its delivery dict. Never raises.

    `quiet` is (status, reason) of a silenced or inhibited page: the row is stored with the
    rendered message and that status, and nothing is sent. `hold`, when given, takes the
    claimed row instead of sending it (grouped notifications) and returns report extras."""
    quiet_status, quiet_reason = quiet
    if target.skip_reason:
        if quiet_reason and target.skip_reason != "disabled":
            return report(None, target) | {"status": quiet_status, "error": quiet_reason}
        return report(None, target)
    model = build_model(ctx, kind)
    message, warning = render_message(
        ctx,
        model,
        title_template=target.title_template,
        message_template=target.message_template,
        html=target.driver == "email",
    )
    extra = {"warning": warning} if warning else {}
    secrets: list[str] = []
    problem = render_inline(target, template_variables(ctx, model))
    problem = problem or target.missing()
    resolved = target.filled()
    if not problem:
        try:
            resolved, secrets = resolve_secrets(resolved)
        except MissingSecret as exc:
            problem = str(exc)
    identity = target_identity(target, resolved) if not problem else f"{target.driver}:unconfigured"
    fields = {
        "channel": target.channel,
        "driver": target.driver,
        "destination": target.destination()[:300],
        "target": identity,
        "target_config": stored_target_config(target.config) if target.channel is None else {},
        "message": redact(message.as_dict()),
        "kind": kind,
        "incident": incident,
        "pipeline_run_id": run_pk(pipeline_run),
        "node_id": node_id[:100],
        "severity": message.severity[:20],
    }
    key = f"{run_key}:node:{node_id}:{kind}:{channel_key(target)}"[:300]
    # A quiet page is never sent, so whether its destination is configured does not matter.
    throttled = quiet_reason
    if not problem and not throttled:
        throttled = throttle_reason(incident, identity, kind, message.severity, repeat_s)
    initial = Status.THROTTLED if throttled else Status.FAILED if problem else Status.SENDING
    if quiet_reason:
        initial = quiet_status
    row, created = Delivery.objects.get_or_create(
        idempotency_key=key,
        defaults=fields | {"status": initial, "last_error": throttled or problem},
    )
    if not created:
        if row.status in DONE:
            return report(row, target, already_done=True, **extra)
        if not claim(row.pk):
            row = _wait_for_other_sender(row, deadline)
            note = "sent by another worker" if row.status == Status.SUCCEEDED else ""
            return report(row, target, **({"note": note} if note else {}), **extra)
        for name in ("destination", "target_config", "message", "severity"):
            setattr(row, name, fields[name])
    if problem or throttled:
        if not created:  # a failed row re-tried, now throttled or still unconfigured
            row.status, row.last_error = initial, throttled or problem
            row.updated_at = timezone.now()
            row.save()
        metrics.record_delivery(target.driver, row.status)
        return report(row, target, **extra)
    if hold is not None:
        return report(row, target, **hold(row), **extra)
    send_with_retries(row, target.module, resolved, message, secrets=secrets, deadline=deadline)
    metrics.record_delivery(target.driver, row.status)
    logger.info(
        "notify %s %s to %s: %s after %s attempt(s)",
        kind,
        target.driver,
        row.destination,
        row.status,
        row.attempts,
    )
    return report(row, target, **extra)
