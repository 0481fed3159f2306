from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ConsoleConfig(AppConfig):
    name = "apps.console"
    label = "console"
    verbose_name = "Operator console"

    def ready(self) -> None:
        from .groups import ensure_groups

        # After every migrate: the groups exist and hold exactly their permissions.
        post_migrate.connect(ensure_groups, dispatch_uid="console-groups")
