"""`manage.py check`: warn when no notification can reach a person (only the console).

Only `check` (and `check --deploy`) shows it: every other command runs the system checks too
(migrate, runserver, shell...), where a reminder about destinations is noise. The `check`
command (apps/common/management/commands/check.py) runs inside apps.common.checks.check_command.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.db import DatabaseError

from apps.common.checks import in_check_command

# Settings that give a driver a destination without a channel row.
DESTINATION_SETTINGS = (
    "SLACK_WEBHOOK_URL",
    "PAGERDUTY_ROUTING_KEY",
    "NOTIFY_EMAIL_TO",
    "GENERIC_WEBHOOK_URL",
    "NTFY_URL",
)
NO_DESTINATION = "notify.W001"


def has_channel() -> bool:
    from apps.notify.models import NotificationChannel

    try:
        return NotificationChannel.objects.filter(enabled=True).exclude(driver="console").exists()
    except DatabaseError:  # not migrated yet: there is no channel
        return False


def destination_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if not in_check_command():
        return []
    if any(getattr(settings, name, None) for name in DESTINATION_SETTINGS) or has_channel():
        return []
    return [
        checks.Warning(
            "No notification destination is configured, so pages reach only the console: set "
            "SLACK_WEBHOOK_URL (or PAGERDUTY_ROUTING_KEY, NOTIFY_EMAIL_TO, GENERIC_WEBHOOK_URL, "
            "NTFY_URL) or add an enabled channel in the admin (see docs/notify.md).",
            id=NO_DESTINATION,
        )
    ]
