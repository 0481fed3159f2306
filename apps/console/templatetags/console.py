"""Small filters for the console's templates."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.common.tables import age as short_age

register = template.Library()


@register.filter
def age(seconds: float | None) -> str:
    """Seconds as 12s, 5m, 3h, 2d."""
    return short_age(seconds)


@register.filter
def ago(moment: str | datetime | None) -> str:
    """An ISO text or a datetime as how long ago it was."""
    if isinstance(moment, str):
        moment = parse_datetime(moment)
    if moment is None:
        return "-"
    return short_age((timezone.now() - moment).total_seconds()) + " ago"


@register.filter
def when(moment: str | datetime | None) -> str:
    """An ISO text or a datetime as `2026-12-04 21:49:15` (UTC)."""
    if isinstance(moment, str):
        moment = parse_datetime(moment)
    if moment is None:
        return "-"
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


@register.filter
def ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f} ms" if value < 10_000 else f"{value / 1000:.1f} s"


@register.filter
def http_url(value: str) -> str:
    """The link if it is http(s), else "": a vendor's link never becomes `javascript:`."""
    text = str(value or "").strip()
    return text if text.lower().startswith(("http://", "https://")) else ""
