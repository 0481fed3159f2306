"""What every driver shares: the message it sends, the outcome of one attempt, config checks."""

import email.utils
import re
import time
from dataclasses import asdict, dataclass, field
from email.header import Header
from typing import Any
from urllib.parse import urlsplit

from apps.common import http
from apps.common.templating import check_syntax, has_template
from apps.common.text import one_line

ENV_REF_RE = re.compile(r"^env:[A-Za-z_][A-Za-z0-9_]*$")
HEADER_NAME_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
USER_AGENT = "incident-pipeline-notify/1"
HEADER_MAX = 1000  # characters of a header value (titles are at most 500)


@dataclass
class Message:
    """One notification, already rendered; drivers turn it into their wire format."""

    kind: str  # trigger | resolve | test
    title: str
    text: str
    html: str = ""
    severity: str = "unknown"
    status: str = ""
    host: str = ""
    started_at: str = ""
    description: str = ""
    link: str = ""
    summary: str = ""
    probable_cause: str = ""
    recommendations: list[dict[str, Any]] = field(default_factory=list)
    dedup_key: str = ""
    incident_id: int | None = None
    run_id: str = ""
    trace_id: str = ""
    source: str = ""
    environment: str = ""
    custom_text: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Message":
        known = cls.__dataclass_fields__
        return cls(**{key: value for key, value in data.items() if key in known})


class SendError(Exception):
    """One attempt failed; `retryable` says whether another attempt can help."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        response_code: int | None = None,
        retry_after_s: float | None = None,
    ):
        super().__init__(message)
        self.retryable = retryable
        self.response_code = response_code
        self.retry_after_s = retry_after_s


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    from django.utils import timezone

    return max(0.0, (when - timezone.now()).total_seconds())


def send_http(
    url: str,
    *,
    shown_as: str,
    timeout: float,
    content: bytes,
    headers: dict[str, str],
) -> int:
    """POST once through the common client; return the status code or raise SendError."""
    started = time.monotonic()
    import httpx  # on first send only: it is slow to import

    left = max(0.001, timeout - (time.monotonic() - started))  # the import counts too
    try:
        response = http.request("POST", url, timeout=left, content=content, headers=headers)
    except http.OutboundBlocked as exc:
        raise SendError(str(exc), retryable=False) from exc
    except httpx.TimeoutException as exc:
        raise SendError(f"timed out after {timeout:.1f}s: {shown_as}", retryable=True) from exc
    except httpx.TransportError as exc:
        raise SendError(f"cannot connect to {shown_as}: {exc}", retryable=True) from exc
    code = response.status_code
    if 200 <= code < 300:
        return code
    detail = one_line(response.text, 200)
    message = f"HTTP {code} from {shown_as}" + (f": {detail}" if detail else "")
    if code == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise SendError(message, retryable=True, response_code=code, retry_after_s=retry_after)
    raise SendError(message, retryable=code >= 500, response_code=code)


def header_value(text: str) -> str:
    """HTTP headers are latin-1; non-ASCII goes out as an RFC 2047 encoded word."""
    flat = one_line(text, HEADER_MAX)
    if flat.isascii():
        return flat
    return Header(flat, "utf-8").encode()


def shown_url(url: str) -> str:
    """A URL as it may be shown: scheme, host and port; the path can hold a token."""
    if url.startswith("env:"):
        return url
    parts = urlsplit(url)
    if not parts.hostname:
        return "(invalid URL)"
    port = f":{parts.port}" if parts.port else ""
    tail = "/…" if parts.path not in ("", "/") or parts.query else ""
    return f"{parts.scheme}://{parts.hostname}{port}{tail}"


# --- config checks used by the drivers' validate() ----------------------------------------


def url_problem(key: str, value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return f"'{key}' must be a non-empty string URL"
    if ENV_REF_RE.match(value):
        return None
    if has_template(value):
        return check_syntax(value) and f"'{key}': {check_syntax(value)}"
    if value.startswith("env:"):
        return f"'{key}': {value!r} is not a valid env: reference (use env:VAR_NAME)"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return f"'{key}' is not a valid URL: {value!r}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"'{key}' must be an http(s) URL with a host, got {value!r}"
    return None


def string_problem(key: str, value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return f"'{key}' must be a non-empty string"
    if value.startswith("env:") and not ENV_REF_RE.match(value):
        return f"'{key}': {value!r} is not a valid env: reference (use env:VAR_NAME)"
    if has_template(value):
        error = check_syntax(value)
        return f"'{key}': {error}" if error else None
    return None


def headers_problems(key: str, value: Any) -> list[str]:
    if not isinstance(value, dict):
        return [f"'{key}' must be an object of header names to string values"]
    problems = []
    for name, item in value.items():
        if not HEADER_NAME_RE.match(str(name)):
            problems.append(f"'{key}': {name!r} is not a valid header name")
        elif not isinstance(item, str):
            problems.append(f"'{key}': the value of {name!r} must be a string")
        elif "\n" in item or "\r" in item:
            problems.append(f"'{key}': the value of {name!r} must be one line")
    return problems
