import gc

from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "apps.common"
    label = "common"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        resume_garbage_collection()


def resume_garbage_collection() -> None:
    """Turn the cyclic collector back on if manage.py paused it for start-up.

    Start-up objects (modules, models, the admin) live as long as the process: they are moved to
    the permanent generation, so later full collections do not walk them again.
    """
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
