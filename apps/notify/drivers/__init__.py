"""Notify drivers: one module per destination type behind a plain dict registry.

Each module has NAME, KEYS (inline config keys besides title/message), REQUIRED (the keys that
name a destination), DEFAULTS (key -> settings name of its env default), validate(config),
describe(config) (a redacted destination) and send(config, message, timeout=...) which makes one
attempt and returns the response code or raises SendError.

DRIVERS maps a driver name to its module's dotted path; a module is imported on first use
(load_driver). --help lists and choices derive from DRIVERS, in this order.
"""

from types import ModuleType

from apps.common import registry

DRIVERS: dict[str, str] = {
    "console": "apps.notify.drivers.console",
    "generic": "apps.notify.drivers.generic",
    "slack": "apps.notify.drivers.slack",
    "email": "apps.notify.drivers.email",
    "pagerduty": "apps.notify.drivers.pagerduty",
    "ntfy": "apps.notify.drivers.ntfy",
}


def load_driver(name: str) -> ModuleType:
    """The driver module named `name`; registry.UnknownName (a KeyError) for an unknown one."""
    module: ModuleType = registry.load(DRIVERS, name, "notify driver")
    return module
