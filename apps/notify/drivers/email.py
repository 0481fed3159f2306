"""email: text and HTML parts through Django's SMTP backend (EMAIL_URL or EMAIL_HOST...)."""

import smtplib
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email

from apps.common.text import one_line
from apps.notify.drivers.base import Message, SendError

NAME = "email"
KEYS = ("to", "from")
REQUIRED = ("to",)
DEFAULTS = {"to": "NOTIFY_EMAIL_TO", "from": "NOTIFY_EMAIL_FROM"}
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def _address_problem(key: str, value: Any) -> str | None:
    if not isinstance(value, str):
        return f"'{key}' must hold e-mail addresses as strings, got {value!r}"
    if value.startswith("env:") or "{{" in value:
        return None
    try:
        validate_email(parseaddr(value)[1])
    except ValidationError:
        return f"'{key}': {value!r} is not a valid e-mail address"
    return None


def validate(config: dict[str, Any]) -> list[str]:
    problems: list[str | None] = []
    if "to" in config:
        to = config["to"]
        if not isinstance(to, list) or not to:
            problems.append("'to' must be a non-empty list of e-mail addresses")
        else:
            problems += [_address_problem("to", item) for item in to]
    if "from" in config:
        problems.append(_address_problem("from", config["from"]))
    return [problem for problem in problems if problem]


def describe(config: dict[str, Any]) -> str:
    to = config["to"]
    return ", ".join(to) if isinstance(to, list) else str(to)


def _recipients(to: Any) -> list[str]:
    items = to if isinstance(to, list) else [to]
    return [part.strip() for item in items for part in str(item).split(",") if part.strip()]


def send(config: dict[str, Any], message: Message, *, timeout: float) -> int | None:
    connection = get_connection(SMTP_BACKEND, fail_silently=False, timeout=timeout)
    mail = EmailMultiAlternatives(
        subject=one_line(message.title, 250),
        body=message.text,
        from_email=config.get("from") or settings.NOTIFY_EMAIL_FROM,
        to=_recipients(config["to"]),
        connection=connection,
        headers={"X-Incident-Key": message.dedup_key} if message.dedup_key else None,
    )
    if message.html:
        mail.attach_alternative(message.html, "text/html")
    server = f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    try:
        mail.send()
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({code for code, _ in exc.recipients.values()})
        raise SendError(
            f"SMTP server {server} refused all recipients (codes {codes})",
            retryable=all(400 <= code < 500 for code in codes),
        ) from exc
    except smtplib.SMTPResponseException as exc:
        reason = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else exc.smtp_error
        )
        raise SendError(
            f"SMTP {exc.smtp_code} from {server}: {reason}",
            retryable=400 <= exc.smtp_code < 500,
            response_code=exc.smtp_code,
        ) from exc
    except TimeoutError as exc:
        raise SendError(
            f"SMTP server {server} timed out after {timeout:.1f}s", retryable=True
        ) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"cannot send via SMTP server {server}: {exc}", retryable=True) from exc
    return 250
