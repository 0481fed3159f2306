import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Import the views now, then move every object loaded so far out of the garbage collector's
# reach: they live as long as the process, and each full collection walked all of them again
# (a webhook allocates enough to trigger one every few requests).
get_resolver().url_patterns  # noqa: B018 - imports the URLconf and with it every view
gc.collect()
gc.freeze()
