"""Secrets are redacted before anything is stored, logged or sent to an LLM."""

import functools
import re
from typing import Any

REDACTED = "***"  # the same mark as apps.common.sealed.MASK

# A key is secret when, lower-cased with punctuation removed, it ends in one of these
# ("auth_token", "apiKey", "X-Api-Key", "routing_key"); "tokens" (a count) is not.
SECRET_KEY_SUFFIXES = (
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "authorization",
    "routingkey",
    "integrationkey",
    "webhookurl",
    "privatekey",
    "accesskey",
    "secretkey",
    "credential",
    "credentials",
    "cookie",
    "sessionid",
    "dsn",
    "passphrase",
    "authkey",
    "signingkey",
    "licensekey",
    "encryptionkey",
    "masterkey",
    "sharedkey",
    "clientkey",
    "hmac",
)
# Secret wherever they appear in the name: "X-Hub-Signature-256", "X-Auth-Token", "X-Auth".
SECRET_KEY_PARTS = ("signature", "xauth", "apikey", "password", "secret")

SECRET_VALUE_PATTERNS = [
    re.compile(r"(?i)\bbearer\s+[a-z0-9._~+/=-]{8,}"),
    re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+"),
    # The body stops at the next "-----", so a text of many BEGIN lines is scanned once.
    re.compile(
        r"-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----(?:[^-]|-(?!----))*"
        r"-----END [A-Z ]{0,40}PRIVATE KEY-----"
    ),
    re.compile(r"(?i)(password|passwd|secret|token|api_key|apikey)=([^\s&]+)"),
]
# The scheme is bounded: unbounded, every letter of a long word started a scan to its end
# (quadratic: a 1 MB description took minutes).
URL_USERINFO_RE = re.compile(
    r"(?P<scheme>\b[a-z][a-z0-9+.-]{0,31}://)(?P<user>[^:/@\s]*):[^@/\s]+@", re.I
)


@functools.cache
def any_secret_re() -> re.Pattern[str]:
    """One cheap pass that says whether any pattern could match; most strings have no secret.
    Compiled on first use (it takes ~30 ms)."""
    return re.compile(
        "|".join(
            f"(?:{p.pattern.removeprefix('(?i)')})"
            for p in [URL_USERINFO_RE, *SECRET_VALUE_PATTERNS]
        ),
        re.IGNORECASE,
    )


def may_hold_secret(text: str) -> bool:
    """False when no pattern can match: each needs one of these literals (any case). Most
    strings of a webhook (names, hosts, dates, URLs) fail all of them for less than the
    combined regex's cost, which grows with the number of patterns."""
    folded = text.lower()
    return (
        "=" in folded
        or ("@" in folded and "://" in folded)
        or "bearer" in folded
        or "sk-" in folded
        or "xox" in folded
        or ("gh" in folded and "_" in folded)
        or "akia" in folded
        or "hooks.slack.com" in folded
        or "private key" in folded
    )


def redact_text(text: str) -> str:
    if len(text) < 8 or not may_hold_secret(text) or not any_secret_re().search(text):
        return text
    text = URL_USERINFO_RE.sub(lambda m: f"{m['scheme']}{m['user']}:{REDACTED}@", text)
    for pattern in SECRET_VALUE_PATTERNS:
        if pattern.groups >= 2:
            text = pattern.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


@functools.lru_cache(maxsize=4096)  # the same few keys come back in every body
def is_secret_key(key: str) -> bool:
    folded = re.sub(r"[^a-z0-9]", "", key.lower())
    if folded == "auth" or folded.endswith(SECRET_KEY_SUFFIXES):
        return True
    return any(part in folded for part in SECRET_KEY_PARTS)


def redact(value: Any) -> Any:
    """Return a copy of value with secret-looking keys and values replaced."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(key, str) and is_secret_key(key) and item not in (None, "", [], {}):
                if isinstance(item, str) and item.startswith("env:"):
                    out[key] = item  # a reference to an env var is not itself a secret
                else:
                    out[key] = REDACTED
            else:
                out[key] = redact(item)
        return out
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value
