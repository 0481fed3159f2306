"""Django's `check`, with the admin modules loaded first.

The admin is SimpleAdminConfig (see config/settings.py): admin modules are imported by the
URLconf, not at start-up. `check --tag admin` skips the URL checks that would load them, so load
them here, or the admin checks would look at an empty site. The checks that only `check`
reports (notify.W001: no destination configured) are turned on here too.
"""

from typing import Any

from django.contrib import admin
from django.core.management.commands.check import Command as DjangoCheck


class Command(DjangoCheck):
    def handle(self, *app_labels: str, **options: Any) -> None:
        from apps.notify.checks import shown_by_check

        admin.autodiscover()
        with shown_by_check():
            super().handle(*app_labels, **options)
