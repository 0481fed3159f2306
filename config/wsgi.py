import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from apps.common.gcfreeze import freeze_loaded_objects

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

get_resolver().url_patterns  # noqa: B018 - imports the URLconf and with it every view
freeze_loaded_objects()
