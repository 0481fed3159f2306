"""Which values of a notify config are secrets, and keeping them sealed at rest.

The destination keys (`url`, `webhook_url`, `routing_key`: a webhook token, an ntfy topic or a
PagerDuty key lives in them), `secret`, every header value (`Authorization`, `X-Auth-*`,
signatures) and any key named like a secret are stored encrypted (apps.common.sealed) in
definitions, run snapshots and channels. `env:NAME` references are stored as they are (the value
lives in the environment). Views show `***`; a `***` sent back where a secret is stored keeps it,
so a definition read from the API can be edited and sent back without its secrets.
"""

from typing import Any

from apps.common.redact import is_secret_key
from apps.common.sealed import MASK, SealError, is_sealed, mask, seal, unseal, unseal_all
from apps.notify.drivers.base import ENV_REF_RE

SECRET_FIELDS = frozenset({"url", "webhook_url", "routing_key", "secret"})
HEADERS = "headers"


def is_secret_field(key: Any) -> bool:
    return isinstance(key, str) and (key in SECRET_FIELDS or is_secret_key(key))


def _sealed_value(value: Any, previous: Any) -> Any:
    if not isinstance(value, str) or not value or ENV_REF_RE.match(value) or is_sealed(value):
        return value
    if value == MASK:  # "keep what is stored": the API and the admin show secrets as ***
        return previous if is_sealed(previous) else value
    if is_sealed(previous):
        try:
            if unseal(previous) == value:  # unchanged: same token, so no new version
                return previous
        except SealError:
            pass
    return seal(value)


def seal_config(config: Any, previous: Any = None) -> Any:
    """A copy of a driver config (inline node config or channel config) with its secrets
    sealed; `previous` is the stored config it replaces (its tokens are kept when unchanged)."""
    if not isinstance(config, dict):
        return config
    before: dict[str, Any] = previous if isinstance(previous, dict) else {}
    result = dict(config)
    for key, value in config.items():
        if key == HEADERS and isinstance(value, dict):
            stored = before.get(HEADERS)
            old: dict[str, Any] = stored if isinstance(stored, dict) else {}
            result[key] = {name: _sealed_value(item, old.get(name)) for name, item in value.items()}
        elif is_secret_field(key):
            result[key] = _sealed_value(value, before.get(key))
    return result


def hidden(config: Any) -> Any:
    """A copy of a driver config to show: every secret (clear or sealed) as ***, env:
    references as written."""
    if not isinstance(config, dict):
        return mask(config)
    shown = {}
    for key, value in config.items():
        if key == HEADERS and isinstance(value, dict):
            shown[key] = {name: _hide(item) for name, item in value.items()}
        elif is_secret_field(key):
            shown[key] = _hide(value)
        else:
            shown[key] = mask(value)
    return shown


def _hide(value: Any) -> Any:
    if isinstance(value, str) and (not value or ENV_REF_RE.match(value)):
        return value
    return MASK


def masked_secrets(config: Any) -> list[str]:
    """Keys still holding *** (a hidden secret with nothing stored to keep)."""
    if not isinstance(config, dict):
        return []
    found = [key for key, value in config.items() if is_secret_field(key) and value == MASK]
    headers = config.get(HEADERS)
    if isinstance(headers, dict):
        found += [f"{HEADERS}.{name}" for name, value in headers.items() if value == MASK]
    return found


def readable(config: Any) -> tuple[Any, str]:
    """(the config with its sealed values decrypted, "" or a one-line problem)."""
    try:
        return unseal_all(config), ""
    except SealError as exc:
        return config, str(exc)
