"""Reading settings from the environment strictly: a value that is not what the setting takes is
a one-line ImproperlyConfigured at start-up, never a silent default or a later traceback.

`INGEST_START_RUNS=maybe` would otherwise read as "off", and `LOG_LEVEL=verbose` fail deep
inside logging's set-up.
"""

import math
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
HTTP_SCHEMES = ("http", "https")


def _raw(name: str) -> str:
    return os.environ.get(name, "").strip()


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """One of `choices` (empty: the default)."""
    value = _raw(name) or default
    if value not in choices:
        listed = ", ".join(choices[:-1]) + f" or {choices[-1]}"
        raise ImproperlyConfigured(f"{name} must be {listed}, got {os.environ[name]!r}")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    value = _raw(name).lower()
    if not value:
        return default
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be 1/0, true/false, yes/no or on/off, got {os.environ[name]!r}"
    )


def _number(name: str, value: str, kind: type, minimum: float | None) -> Any:
    what = "a whole number" if kind is int else "a number"
    try:
        number = kind(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {what}, got {value!r}") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise ImproperlyConfigured(f"{name} must be a finite number, got {value!r}")
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be {what} of at least {minimum:g}, got {value!r}")
    return number


def env_int(name: str, default: int, minimum: int | None = 0) -> int:
    value = _raw(name)
    return _number(name, value, int, minimum) if value else default


def env_float(name: str, default: float, minimum: float | None = 0.0) -> float:
    value = _raw(name)
    return _number(name, value, float, minimum) if value else default


def env_optional_float(name: str) -> float | None:
    value = _raw(name)
    if not value or value.lower() == "none":
        return None
    return _number(name, value, float, None)


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_level(name: str, default: str) -> str:
    value = _raw(name).upper()
    if not value:
        return default
    if value not in LEVELS:
        choices = ", ".join(LEVELS)
        raise ImproperlyConfigured(f"{name} must be one of {choices}, got {os.environ[name]!r}")
    return value


def check_url(name: str, value: str, schemes: tuple[str, ...] = HTTP_SCHEMES) -> str:
    """The URL itself (empty passes): its scheme must be one of `schemes` and it needs a host,
    unless the scheme is one that names a file (sqlite) or a process (memory)."""
    if not value:
        return value
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError on a port that is not a number
    except ValueError:
        raise ImproperlyConfigured(f"{name} is not a valid URL (bad port or brackets)") from None
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        raise ImproperlyConfigured(
            f"{name} must start with {' or '.join(s + '://' for s in schemes)}, "
            f"got {scheme + '://' if scheme else 'no scheme'}"
        )
    if not parts.hostname and scheme not in ("sqlite", "memory"):
        raise ImproperlyConfigured(f"{name} has no host")
    return value


def env_url(name: str, default: str = "", schemes: tuple[str, ...] = HTTP_SCHEMES) -> str:
    return check_url(name, os.environ.get(name, default).strip(), schemes)


def installation_secret_key(path: Path) -> str:
    """This installation's own random key, made once in `path` (readable by its owner only).

    Written to a private temporary file and linked into place, so processes starting together
    all read the one key that won."""
    try:
        if not path.exists():
            descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret-key-")
            try:
                with os.fdopen(descriptor, "w") as file:  # mkstemp makes it 0600
                    file.write(secrets.token_urlsafe(50) + "\n")
                os.link(temporary, path)
            except FileExistsError:
                pass
            finally:
                os.unlink(temporary)
        return path.read_text().strip()
    except OSError as exc:
        raise ImproperlyConfigured(
            f"cannot keep a secret key in {path}: {exc.strerror or exc}"
        ) from None


def smtp_url(url: str) -> tuple[str, int, str, str, bool, bool]:
    """EMAIL_URL as (host, port, user, password, STARTTLS?, TLS from the start?):
    smtp://user:pass@host:port (plain, or STARTTLS with ?tls=1), smtp+tls:// (STARTTLS),
    smtps:// (TLS from the start)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtp+tls", "smtps") or not parts.hostname:
        raise ImproperlyConfigured(
            "EMAIL_URL must look like smtp://user:password@host:port (or smtp+tls://, smtps://)"
        )
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured("EMAIL_URL has an invalid port") from None
    starttls = parts.scheme == "smtp+tls" or parse_qs(parts.query).get("tls") == ["1"]
    default_port = 465 if parts.scheme == "smtps" else 587 if "tls" in parts.scheme else 25
    return (
        parts.hostname,
        port or default_port,
        unquote(parts.username or ""),
        unquote(parts.password or ""),
        starttls,
        parts.scheme == "smtps",
    )
