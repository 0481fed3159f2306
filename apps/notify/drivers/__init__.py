"""Notify drivers: one module per destination type behind a plain dict registry.

Each module has NAME, KEYS (inline config keys besides title/message), REQUIRED (the keys that
name a destination), DEFAULTS (key -> settings name of its env default), validate(config),
describe(config) (a redacted destination) and send(config, message, timeout=...) which makes one
attempt and returns the response code or raises SendError.
"""

from types import ModuleType

from apps.notify.drivers import console, email, generic, ntfy, pagerduty, slack

DRIVERS: dict[str, ModuleType] = {
    module.NAME: module for module in (console, email, generic, ntfy, pagerduty, slack)
}
