"""Notify service: validate node configs, pick targets, render, deliver with guarantees.

Guarantees (see docs/notify.md): a Delivery row exists before each send; one idempotency key
per run + node + kind + target, claimed atomically so a retried, resumed or concurrent node never
sends twice for a key that succeeded; retries with backoff for errors that can pass; throttling
per incident and target; secrets resolved only at send time and never stored.
"""

import hashlib
import json
import logging
import os
import random
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from apps.common import metrics, templating
from apps.common.redact import REDACTED, redact, redact_text
from apps.notify.drivers import DRIVERS
from apps.notify.drivers.base import ENV_REF_RE, Message, SendError
from apps.notify.messages import (
    CONTEXT_KEYS,
    build_model,
    is_resolved,
    normalise_context,
    render_message,
    template_variables,
)
from apps.notify.models import Delivery, NotificationChannel

logger = logging.getLogger(__name__)

TEMPLATE_KEYS = ("title", "message")
SEVERITY_RANK = {"info": 0, "unknown": 1, "warning": 1, "error": 2, "critical": 2}
DESTINATION_SECRET_KEYS = {"url", "webhook_url", "routing_key", "secret"}
Status = Delivery.Status


class NotifyConfigError(ValueError):
    """The node config is not a notify config at all (validation was skipped)."""


def known_drivers() -> str:
    return ", ".join(sorted(DRIVERS))


def not_configured_hint(driver: str) -> str:
    module = DRIVERS[driver]
    names = " / ".join(module.DEFAULTS[key] for key in module.REQUIRED)
    return f"set {names} or create an enabled {driver} channel"


# --- validation ---------------------------------------------------------------------------


def template_problems(key: str, source: Any) -> list[str]:
    if not isinstance(source, str):
        return [f"'{key}' must be a template string, got {type(source).__name__}"]
    from jinja2 import TemplateSyntaxError, meta

    try:
        parsed = templating.environment().parse(source)
    except TemplateSyntaxError as exc:
        return [f"'{key}' template syntax error: {exc.message} (line {exc.lineno})"]
    unknown = sorted(meta.find_undeclared_variables(parsed) - set(CONTEXT_KEYS) - {"message"})
    if unknown:
        available = ", ".join(("message", *CONTEXT_KEYS))
        return [
            f"'{key}' template uses unknown variable(s) {', '.join(unknown)} "
            f"(available: {available})"
        ]
    return []


def channel_problems(driver: Any, config: Any) -> list[str]:
    """Problems of a driver config (a channel's config or an inline node config)."""
    if driver not in DRIVERS:
        return [f"unknown notify driver {driver!r} (known: {known_drivers()})"]
    if not isinstance(config, dict):
        return [f"the {driver} config must be an object, got {type(config).__name__}"]
    module = DRIVERS[driver]
    allowed = (*module.KEYS, *TEMPLATE_KEYS)
    problems = [
        f"unknown key {key!r} for driver {driver!r} (allowed: {', '.join(sorted(allowed))})"
        for key in config
        if key not in allowed
    ]
    problems += module.validate(config)
    for key in TEMPLATE_KEYS:
        if key in config:
            problems += template_problems(key, config[key])
    return problems


def _channel_names(config: dict[str, Any]) -> tuple[list[str], list[str]]:
    names: list[str] = []
    problems = []
    if "channel" in config:
        if isinstance(config["channel"], str) and config["channel"].strip():
            names.append(config["channel"])
        else:
            problems.append("'channel' must be a non-empty channel name")
    if "channels" in config:
        value = config["channels"]
        if not isinstance(value, list) or not value:
            problems.append("'channels' must be a non-empty list of channel names")
        elif not all(isinstance(item, str) and item.strip() for item in value):
            problems.append("'channels' must hold channel names (non-empty strings)")
        else:
            names += value
    return names, problems


def validate_notify_config(config: dict) -> list[str]:
    if not isinstance(config, dict):
        return [f"notify config must be an object, got {type(config).__name__}"]
    has_channels = "channel" in config or "channels" in config
    if "driver" in config and has_channels:
        return ["give either 'driver' (with inline settings) or 'channel'/'channels', not both"]
    if "driver" in config:
        inline = {key: value for key, value in config.items() if key != "driver"}
        return channel_problems(config["driver"], inline)
    if not has_channels:
        return ["notify config needs 'driver', 'channel' or 'channels'"]
    names, problems = _channel_names(config)
    allowed = {"channel", "channels", *TEMPLATE_KEYS}
    problems += [
        f"unknown key {key!r} (allowed with channels: {', '.join(sorted(allowed))})"
        for key in config
        if key not in allowed
    ]
    for key in TEMPLATE_KEYS:
        if key in config:
            problems += template_problems(key, config[key])
    existing = set(
        NotificationChannel.objects.filter(name__in=names).values_list("name", flat=True)
    )
    problems += [
        f"notification channel {name!r} does not exist" for name in names if name not in existing
    ]
    return problems


# --- targets ------------------------------------------------------------------------------


@dataclass
class Target:
    """One destination a node sends to: a named channel or the node's inline driver config."""

    driver: str
    config: dict[str, Any]  # unresolved: may hold env: references
    channel: NotificationChannel | None = None
    label: str = "inline"
    title_template: str | None = None
    message_template: str | None = None
    skip_reason: str = ""  # set for a missing or disabled channel: nothing is sent
    extra: bool = False  # added because it was notified of the incident that now resolved

    @property
    def module(self) -> ModuleType:
        return DRIVERS[self.driver]

    def filled(self) -> dict[str, Any]:
        """The config with env defaults for keys it does not set."""
        result = dict(self.config)
        for key, setting in self.module.DEFAULTS.items():
            if result.get(key) in (None, "", []):
                value = getattr(settings, setting, None)
                if value not in (None, "", []):
                    result[key] = value
        return result

    def missing(self) -> str:
        """Why nothing can be sent ("" when a destination is configured)."""
        filled = self.filled()
        if all(filled.get(key) not in (None, "", []) for key in self.module.REQUIRED):
            return ""
        return f"no {self.driver} destination: {not_configured_hint(self.driver)}"

    def destination(self) -> str:
        missing = self.missing()
        if missing:
            return f"(not configured: {not_configured_hint(self.driver)})"
        return self.module.describe(self.filled())


def _templates(node_config: dict[str, Any], channel_config: dict[str, Any]) -> dict[str, Any]:
    """Node templates win over channel templates, which win over the shipped defaults."""
    return {
        "title_template": node_config.get("title") or channel_config.get("title"),
        "message_template": node_config.get("message") or channel_config.get("message"),
    }


def _channel_target(channel: NotificationChannel, node_config: dict[str, Any]) -> Target:
    inline = {k: v for k, v in channel.config.items() if k not in TEMPLATE_KEYS}
    return Target(
        driver=channel.driver,
        config=inline,
        channel=channel,
        label=channel.name,
        **_templates(node_config, channel.config),
    )


def resolve_targets(config: dict[str, Any]) -> list[Target]:
    problems = [p for p in validate_notify_config(config) if "does not exist" not in p]
    if problems:
        raise NotifyConfigError("; ".join(problems))
    if "driver" in config:
        driver = config["driver"]
        inline = {k: v for k, v in config.items() if k not in ("driver", *TEMPLATE_KEYS)}
        module = DRIVERS[driver]
        names_destination = any(inline.get(key) for key in module.REQUIRED)
        channels = (
            []
            if names_destination or not module.REQUIRED
            else list(NotificationChannel.objects.filter(driver=driver, enabled=True))
        )
        if channels:
            return [_channel_target(channel, config) for channel in channels]
        return [Target(driver=driver, config=inline, **_templates(config, {}))]
    names, _ = _channel_names(config)
    by_name = {c.name: c for c in NotificationChannel.objects.filter(name__in=names)}
    targets = []
    for name in dict.fromkeys(names):
        channel = by_name.get(name)
        if channel is None:
            targets.append(
                Target(
                    driver="",
                    config={},
                    label=name,
                    skip_reason=f"notification channel {name!r} does not exist",
                )
            )
        elif channel.driver not in DRIVERS:
            targets.append(
                Target(
                    driver="",
                    config={},
                    label=name,
                    skip_reason=f"channel {name!r} has unknown driver {channel.driver!r}",
                )
            )
        else:
            target = _channel_target(channel, config)
            if not channel.enabled:
                target.skip_reason = "disabled"
            targets.append(target)
    return targets


def _previously_notified(incident: Any, targets: list[Target]) -> list[Target]:
    """Enabled named channels told about the incident that this node does not name."""
    present = {t.label for t in targets if t.channel is not None}
    ids = (
        Delivery.objects.filter(incident=incident, kind="trigger", status=Status.SUCCEEDED)
        .exclude(channel=None)
        .values_list("channel_id", flat=True)
    )
    extra = []
    for channel in NotificationChannel.objects.filter(pk__in=set(ids), enabled=True):
        if channel.name not in present and channel.driver in DRIVERS:
            target = _channel_target(channel, {})
            target.extra = True
            extra.append(target)
    return extra


# --- secrets, identity, redaction -----------------------------------------------------------


class MissingSecret(Exception):
    pass


def resolve_secrets(config: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Replace env:VAR strings (at any depth) by their values; return the secret values too."""
    secrets: list[str] = []

    def resolve(value: Any, where: str) -> Any:
        if isinstance(value, dict):
            return {k: resolve(v, f"{where}.{k}" if where else k) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v, where) for v in value]
        if isinstance(value, str) and ENV_REF_RE.match(value):
            name = value[4:]
            resolved = os.environ.get(name)
            if not resolved:
                raise MissingSecret(f"environment variable {name} is not set ({where}: {value})")
            secrets.append(resolved)
            return resolved
        return value

    resolved = resolve(config, "")
    for key, value in resolved.items():
        if key in DESTINATION_SECRET_KEYS and isinstance(value, str):
            secrets += _secret_parts(key, value)
    if isinstance(resolved.get("headers"), dict):
        secrets += [v for v in resolved["headers"].values() if isinstance(v, str)]
    return resolved, secrets


def _secret_parts(key: str, value: str) -> list[str]:
    """For a URL the path and query are the secret (a webhook token); the host is not."""
    if not key.endswith("url"):
        return [value]
    parts = urlsplit(value)
    return [part for part in (parts.path, parts.query) if len(part) > 1]


def scrub(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return redact_text(text)


def channel_key(target: Target) -> str:
    """The channel part of a delivery's idempotency key: the named channel, or the inline
    config as written (env: references unresolved), so a destination configured only later
    keeps the same key and a run+node+channel is never sent twice."""
    if target.channel is not None:
        return f"channel:{target.channel.pk}"
    written = json.dumps([target.driver, target.config], sort_keys=True, default=str)
    return f"{target.driver}:{hashlib.sha256(written.encode()).hexdigest()[:16]}"


def target_identity(target: Target, resolved: dict[str, Any]) -> str:
    """Driver + a digest of the destination: the same channel whether named or inline."""
    values = [resolved.get(key) for key in sorted(target.module.DEFAULTS)]
    digest = hashlib.sha256(json.dumps([target.driver, values], default=str).encode()).hexdigest()
    return f"{target.driver}:{digest[:16]}"


def stored_target_config(config: dict[str, Any]) -> dict[str, Any]:
    """What a Delivery keeps of an inline config: env: references yes, secret values never."""
    result = {}
    for key, value in config.items():
        if isinstance(value, str) and ENV_REF_RE.match(value):
            result[key] = value
        elif key in DESTINATION_SECRET_KEYS and value:
            result[key] = REDACTED
        else:
            result[key] = redact(value)
    return result


# --- throttle -------------------------------------------------------------------------------


def throttle_reason(incident: Any, identity: str, kind: str, severity: str) -> str:
    """Why this send is throttled ("" when it is not)."""
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
    window = settings.NOTIFY_THROTTLE_S
    rose = SEVERITY_RANK.get(severity, 1) > SEVERITY_RANK.get(last.severity, 1)
    if age >= window or rose:
        return ""
    return (
        f"incident already notified here {age:.0f}s ago (delivery {last.pk}, severity "
        f"{last.severity}); NOTIFY_THROTTLE_S={window}"
    )


# --- sending --------------------------------------------------------------------------------


def backoff_s(attempt: int, retry_after_s: float | None) -> float:
    cap = settings.NOTIFY_BACKOFF_MAX_S
    delay = min(cap, settings.NOTIFY_BACKOFF_S * 2 ** (attempt - 1))
    delay = delay / 2 + random.uniform(0, delay / 2)
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, cap))
    return delay


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


def send_with_retries(
    row: Delivery,
    module: ModuleType,
    config: dict[str, Any],
    message: Message,
    *,
    secrets: list[str],
    deadline: float | None,
) -> None:
    """Attempt until success, a non-retryable error, NOTIFY_MAX_ATTEMPTS or the deadline."""
    started = time.monotonic()
    max_attempts = max(1, settings.NOTIFY_MAX_ATTEMPTS)
    error = ""
    for attempt in range(1, max_attempts + 1):
        timeout = settings.OUTBOUND_TIMEOUT_S
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0.05:
                error = f"{error}; " if error else ""
                error += f"deadline reached before attempt {attempt}"
                break
            timeout = min(timeout, remaining)
        row.attempts += 1
        try:
            code = module.send(config, message, timeout=timeout)
        except SendError as exc:
            error, row.response_code = scrub(str(exc), secrets), exc.response_code
            row.last_error, row.updated_at = error, timezone.now()
            row.save(update_fields=["attempts", "last_error", "response_code", "updated_at"])
            if not exc.retryable or attempt == max_attempts:
                break
            delay = backoff_s(attempt, exc.retry_after_s)
            if deadline is not None and time.monotonic() + delay >= deadline:
                error += f"; not retried: a retry in {delay:.1f}s would pass the node deadline"
                break
            time.sleep(delay)
            continue
        except Exception as exc:  # a driver bug must fail this delivery, not the whole node
            logger.exception("notify driver %s crashed", module.NAME)
            error = scrub(f"driver error: {type(exc).__name__}: {exc}", secrets)
            break
        row.status, row.response_code, row.last_error = Status.SUCCEEDED, code, ""
        row.sent_at = timezone.now()
        break
    if row.status != Status.SUCCEEDED:
        row.status, row.last_error = Status.FAILED, error or "not sent"
    row.duration_ms = round((time.monotonic() - started) * 1000, 1)
    row.updated_at = timezone.now()
    row.save()


def render_inline(target: Target, variables: dict[str, Any]) -> str:
    """Render `{{ ... }}` in the driver keys (e.g. a URL from the payload); "" or the error."""
    try:
        target.config = templating.render_value(target.config, variables)
    except templating.TemplateError as exc:
        return f"cannot render the {target.driver} config: {exc}"
    return ""


def _report(row: Delivery | None, target: Target, **extra: Any) -> dict[str, Any]:
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
        **extra,
    }


def _run_pk(pipeline_run: Any) -> int | None:
    """The engine passes a PipelineRun; an id is accepted too."""
    if isinstance(pipeline_run, int):
        return pipeline_run
    return getattr(pipeline_run, "pk", None)


def _run_key(pipeline_run: Any, ctx: dict[str, Any]) -> str:
    run_id = _run_pk(pipeline_run) or ctx["run_id"]
    return f"run:{run_id}" if run_id else f"adhoc:{uuid.uuid4().hex}"


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
) -> dict[str, Any]:
    """Render, claim and send to one target; returns its delivery dict. Never raises."""
    if target.skip_reason:
        return _report(None, target)
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
        "pipeline_run_id": _run_pk(pipeline_run),
        "node_id": node_id[:100],
        "severity": message.severity[:20],
    }
    key = f"{run_key}:node:{node_id}:{kind}:{channel_key(target)}"[:300]
    throttled = throttle_reason(incident, identity, kind, message.severity) if not problem else ""
    initial = Status.THROTTLED if throttled else Status.FAILED if problem else Status.SENDING
    row, created = Delivery.objects.get_or_create(
        idempotency_key=key,
        defaults=fields | {"status": initial, "last_error": throttled or problem},
    )
    if not created:
        if row.status in (Status.SUCCEEDED, Status.THROTTLED):
            return _report(row, target, already_done=True, **extra)
        if not claim(row.pk):
            row = _wait_for_other_sender(row, deadline)
            note = "sent by another worker" if row.status == Status.SUCCEEDED else ""
            return _report(row, target, **({"note": note} if note else {}), **extra)
        for name in ("destination", "target_config", "message", "severity"):
            setattr(row, name, fields[name])
    if problem or throttled:
        if not created:  # a failed row re-tried, now throttled or still unconfigured
            row.status, row.last_error = initial, throttled or problem
            row.updated_at = timezone.now()
            row.save()
        metrics.record_delivery(target.driver, row.status)
        return _report(row, target, **extra)
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
    return _report(row, target, **extra)


def _incident_row(incident: Any, ctx: dict[str, Any]) -> Any:
    from apps.alerts.models import Incident

    if incident is not None:
        return incident
    incident_id = (ctx["incident"] or {}).get("id")
    if isinstance(incident_id, int) or (isinstance(incident_id, str) and incident_id.isdigit()):
        return Incident.objects.filter(pk=int(incident_id)).first()
    return None


def _targets_for(config: dict[str, Any], incident: Any, kind: str) -> list[Target]:
    targets = resolve_targets(config)
    if kind == "resolve" and incident is not None:
        targets += _previously_notified(incident, targets)
    return targets


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
    targets = _targets_for(config, incident_row, kind)
    run_key = _run_key(pipeline_run, ctx)
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
        )
        for target in targets
    ]
    return summarize(config, deliveries)


def summarize(config: dict[str, Any], deliveries: list[dict[str, Any]]) -> dict[str, Any]:
    def count(status: str) -> int:
        return sum(1 for d in deliveries if d["status"] == status)

    drivers = list(dict.fromkeys(d["driver"] for d in deliveries if d["driver"]))
    return {
        "driver": config.get("driver") or ",".join(drivers),
        "channels_attempted": sum(1 for d in deliveries if d["status"] != "skipped"),
        "channels_succeeded": count(Status.SUCCEEDED),
        "channels_failed": count(Status.FAILED),
        "channels_throttled": count(Status.THROTTLED),
        "deliveries": deliveries,
    }


def preview(config: dict, message_context: dict) -> list[dict]:
    """What would be sent to each target: nothing is sent and nothing is stored."""
    ctx = normalise_context(message_context)
    kind = "resolve" if is_resolved(ctx) else "trigger"
    incident = _incident_row(None, ctx)
    result = []
    for target in _targets_for(config, incident, kind):
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


# --- used by the management commands --------------------------------------------------------


def test_context() -> dict[str, Any]:
    return {
        "payload": {
            "title": "Test notification",
            "host": socket.gethostname(),
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
        target = _channel_target(delivery.channel, {})
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
    from apps.notify.models import Delivery

    return Delivery.objects.filter(pipeline_run_id=run_id, status=Delivery.Status.SENDING).update(
        status=Delivery.Status.FAILED,
        last_error="interrupted: the worker stopped while sending (it may have been delivered)",
        updated_at=timezone.now(),
    )
