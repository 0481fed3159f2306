"""Where a notify node sends: its targets, their secrets (resolved at send time only) and the
identities that idempotency keys and throttling compare.
"""

import hashlib
import json
import os
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from apps.common import templating
from apps.common.redact import REDACTED, redact, redact_text
from apps.common.sealed import SealError, is_sealed, unseal
from apps.notify.config import (
    GROUP_KEYS,
    TEMPLATE_KEYS,
    NotifyConfigError,
    channel_names,
    validate_notify_config,
)
from apps.notify.drivers import DRIVERS, load_driver
from apps.notify.drivers.base import ENV_REF_RE
from apps.notify.models import Delivery, NotificationChannel
from apps.notify.sealing import HEADERS, is_secret_field, readable, seal_config

DESTINATION_SECRET_KEYS = {"url", "webhook_url", "routing_key", "secret"}


def not_configured_hint(driver: str) -> str:
    module = load_driver(driver)
    names = " / ".join(module.DEFAULTS[key] for key in module.REQUIRED)
    return f"set {names} or create an enabled {driver} channel"


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

    @property
    def module(self) -> ModuleType:
        return load_driver(self.driver)

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
        if self.missing():
            return f"(not configured: {not_configured_hint(self.driver)})"
        return self.module.describe(readable(self.filled())[0])  # describe() hides secrets


def _templates(node_config: dict[str, Any], channel_config: dict[str, Any]) -> dict[str, Any]:
    """Node templates win over channel templates, which win over the shipped defaults."""
    return {
        "title_template": node_config.get("title") or channel_config.get("title"),
        "message_template": node_config.get("message") or channel_config.get("message"),
    }


def channel_target(channel: NotificationChannel, node_config: dict[str, Any]) -> Target:
    inline = {k: v for k, v in channel.config.items() if k not in TEMPLATE_KEYS}
    return Target(
        driver=channel.driver,
        config=inline,
        channel=channel,
        label=channel.name,
        **_templates(node_config, channel.config),
    )


def _skipped(name: str, reason: str) -> Target:
    return Target(driver="", config={}, label=name, skip_reason=reason)


def resolve_targets(config: dict[str, Any]) -> list[Target]:
    problems = [p for p in validate_notify_config(config) if "does not exist" not in p]
    if problems:
        raise NotifyConfigError("; ".join(problems))
    if "driver" in config:
        driver = config["driver"]
        skipped = ("driver", *TEMPLATE_KEYS, *GROUP_KEYS)
        inline = {k: v for k, v in config.items() if k not in skipped}
        module = load_driver(driver)
        names_destination = any(inline.get(key) for key in module.REQUIRED)
        channels = (
            []
            if names_destination or not module.REQUIRED
            else list(NotificationChannel.objects.filter(driver=driver, enabled=True))
        )
        if channels:
            return [channel_target(channel, config) for channel in channels]
        return [Target(driver=driver, config=inline, **_templates(config, {}))]
    names, _ = channel_names(config)
    by_name = {c.name: c for c in NotificationChannel.objects.filter(name__in=names)}
    targets = []
    for name in dict.fromkeys(names):
        channel = by_name.get(name)
        if channel is None:
            targets.append(_skipped(name, f"notification channel {name!r} does not exist"))
        elif channel.driver not in DRIVERS:
            reason = f"channel {name!r} has unknown driver {channel.driver!r}"
            targets.append(_skipped(name, reason))
        else:
            target = channel_target(channel, config)
            if not channel.enabled:
                target.skip_reason = "disabled"
            targets.append(target)
    return targets


def previously_notified(incident: Any, targets: list[Target]) -> list[Target]:
    """Enabled named channels told about the incident that this node does not name."""
    present = {t.label for t in targets if t.channel is not None}
    ids = (
        Delivery.objects.filter(incident=incident, kind="trigger", status=Delivery.Status.SUCCEEDED)
        .exclude(channel=None)
        .values_list("channel_id", flat=True)
    )
    return [
        channel_target(channel, {})
        for channel in NotificationChannel.objects.filter(pk__in=set(ids), enabled=True)
        if channel.name not in present and channel.driver in DRIVERS
    ]


def targets_for(config: dict[str, Any], incident: Any, kind: str) -> list[Target]:
    """A node's targets; a resolve also goes to the channels told about the incident."""
    targets = resolve_targets(config)
    if kind == "resolve" and incident is not None:
        targets += previously_notified(incident, targets)
    return targets


def render_inline(target: Target, variables: dict[str, Any]) -> str:
    """Render `{{ ... }}` in the driver keys (e.g. a URL from the payload); "" or the error."""
    clear, unreadable = readable(target.config)  # decrypted here, in memory, to be sent
    if unreadable:
        return f"cannot read the {target.driver} config: {unreadable}"
    try:
        target.config = templating.render_value(clear, variables)
    except templating.TemplateError as exc:
        return f"cannot render the {target.driver} config: {exc}"
    return ""


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
        if is_sealed(value):
            try:
                clear = unseal(value)
            except SealError as exc:
                raise MissingSecret(f"{where}: {exc}") from None
            secrets.append(clear)
            return clear
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
    """What a Delivery keeps of an inline config: env: references as written, secrets sealed
    (so a retry can send again), other values redacted."""
    result = {}
    for key, value in seal_config(config).items():
        if (
            key == HEADERS
            or is_secret_field(key)
            or is_sealed(value)
            or isinstance(value, str)
            and ENV_REF_RE.match(value)
        ):
            result[key] = value
        else:
            result[key] = redact(value)
    return result


@dataclass
class Resend:
    """What sending a stored delivery's message again needs: the driver module, its resolved
    config and the secret values to keep out of records."""

    module: Any
    config: dict[str, Any]
    secrets: list[str]


def resend_target(row: Any, node_config: dict[str, Any] | None) -> Resend | str:
    """Where a stored delivery's message can be sent again (the silence-ended, grouped and
    repeat pages), or the one-line reason it cannot."""
    target = target_of(row, node_config)
    if target is None:
        return "the inline destination is no longer known (its run is gone)"
    problem = target.missing()
    if problem:
        return problem
    try:
        config, secrets = resolve_secrets(target.filled())
    except MissingSecret as exc:
        return str(exc)
    return Resend(target.module, config, secrets)


def target_of(row: Any, node_config: dict[str, Any] | None) -> Target | None:
    """Where a stored delivery went: its channel, its stored inline config when that holds no
    redacted secret, or the node's inline destination when it still resolves to the same
    identity (the silence sweep and grouped sends use this)."""
    if row.channel is not None:
        return channel_target(row.channel, {})
    stored = Target(driver=row.driver, config=dict(row.target_config))
    if not any(value == REDACTED for value in stored.config.values()):
        return stored
    try:
        targets = resolve_targets(node_config) if node_config else []
    except NotifyConfigError:
        return None
    for target in targets:
        if target.channel is not None or target.driver != row.driver:
            continue
        try:
            resolved, _ = resolve_secrets(target.filled())
        except MissingSecret:
            continue
        if target_identity(target, resolved) == row.target:
            return target
    return None
