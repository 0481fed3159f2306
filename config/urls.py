from django.contrib import admin
from django.urls import include, path, re_path

from apps.api.api import api_urls
from apps.api.errors import unknown_path
from apps.api.host_snapshots import receive_snapshot
from apps.common.health import health_view
from apps.common.metrics import metrics_view

admin.autodiscover()  # the admin app is SimpleAdminConfig: see INSTALLED_APPS

urlpatterns = [
    path("admin/", admin.site.urls),
    # Before the ninja API so the webhooks own /api/alerts/.
    path("api/alerts/", include("apps.api.webhook_urls")),
    path("api/hosts/<str:name>/snapshots", receive_snapshot, name="host-snapshots"),
    path("api/", api_urls()),
    # Last: any other /api/ path is a JSON 404, never Django's HTML page.
    re_path(r"^api/", unknown_path),
    path("metrics", metrics_view, name="metrics"),
    path("healthz", health_view, name="healthz"),
    # Last: the operator console owns `/` and the pages under it.
    path("", include("apps.console.urls")),
]

# Errors Django raises outside any view's own handling are JSON under /api/ too.
handler400 = "apps.api.errors.bad_request"
handler500 = "apps.api.errors.server_error"
