"""Secrets encrypted at rest: a value stored as `sealed:v1:<Fernet token>` is readable only with
the key from the environment, and only where it is used (a notification being sent).

The key is SECRETS_KEY when set, else one derived from DJANGO_SECRET_KEY; values sealed with
the derived key stay readable after SECRETS_KEY is set (both are tried). `cryptography` is
imported on first use (it costs start-up time that most commands do not need).
"""

import base64
import hashlib
from functools import cache
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

PREFIX = "sealed:v1:"
MASK = "***"  # what every view shows instead of a secret


class SealError(Exception):
    """A stored secret that the configured key cannot decrypt; the message is one line."""


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def _fernet_key(material: str) -> bytes:
    digest = hashlib.sha256(b"incident-pipeline sealed secrets v1\0" + material.encode()).digest()
    return base64.urlsafe_b64encode(digest)


@cache
def _cipher(secrets_key: str, secret_key: str) -> "MultiFernet":
    from cryptography.fernet import Fernet, MultiFernet

    materials = [m for m in (secrets_key, secret_key) if m]
    return MultiFernet([Fernet(_fernet_key(m)) for m in dict.fromkeys(materials)])


def cipher() -> "MultiFernet":
    return _cipher(getattr(settings, "SECRETS_KEY", ""), settings.SECRET_KEY)


def seal(value: str) -> str:
    """The sealed form of a string (a sealed one is returned as it is)."""
    if is_sealed(value):
        return value
    return PREFIX + cipher().encrypt(value.encode("utf-8")).decode("ascii")


def unseal(value: Any) -> Any:
    """The clear value of a sealed string; anything else is returned as it is."""
    if not is_sealed(value):
        return value
    from cryptography.fernet import InvalidToken

    try:
        return cipher().decrypt(value[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError, ValueError):
        raise SealError(
            "a stored secret cannot be decrypted: SECRETS_KEY or DJANGO_SECRET_KEY changed "
            "since it was stored; set the secret again"
        ) from None


def unseal_all(value: Any) -> Any:
    """A copy with every sealed string (at any depth) decrypted."""
    if isinstance(value, dict):
        return {key: unseal_all(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unseal_all(item) for item in value]
    return unseal(value)


def mask(value: Any) -> Any:
    """A copy with every sealed string (at any depth) shown as MASK: what views and API answers
    give instead of the stored value."""
    if isinstance(value, dict):
        return {key: mask(item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask(item) for item in value]
    return MASK if is_sealed(value) else value
