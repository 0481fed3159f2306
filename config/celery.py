"""The Celery app. Without CELERY_BROKER_URL tasks run inline (eagerly)."""

import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("incident_pipeline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def freeze_after_start(**_: object) -> None:
    """Before the pool's processes are forked (they inherit it) or, with a solo or thread
    pool, in the worker itself."""
    from apps.common.gcfreeze import freeze_loaded_objects

    freeze_loaded_objects()
