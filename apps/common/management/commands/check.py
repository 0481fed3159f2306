"""Django's `check`, with the admin modules loaded first.

The admin is SimpleAdminConfig (see config/settings.py): admin modules are imported by the
URLconf, not at start-up. `check --tag admin` skips the URL checks that would load them, so load
them here, or the admin checks would look at an empty site. The checks that only `check`
reports (apps.common.checks: e.g. notify.W001, no destination configured) are on while it runs.
"""

from typing import Any

from django.contrib import admin
from django.core.management.commands.check import Command as DjangoCheck

from apps.common.checks import check_command


class Command(DjangoCheck):
    def handle(self, *app_labels: str, **options: Any) -> None:
        admin.autodiscover()
        with check_command():
            super().handle(*app_labels, **options)
