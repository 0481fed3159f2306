"""The operator console's pages, under `/` (config/urls.py includes them last)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from .views import definitions, hosts, incidents, now, runs, silences

app_name = "console"

urlpatterns = [
    path("", now.now, name="now"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="console/login.html", extra_context={"title": "Sign in"}
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="console:login"), name="logout"),
    path("incidents/<int:incident_id>", incidents.incident_page, name="incident"),
    path(
        "incidents/<int:incident_id>/<str:action>",
        incidents.incident_action,
        name="incident-action",
    ),
    path("runs/<int:run_id>", runs.run_page, name="run"),
    path("runs/<int:run_id>/resume", runs.resume_action, name="run-resume"),
    path("definitions", definitions.definition_list, name="definitions"),
    path("definitions/<slug:name>", definitions.definition_page, name="definition"),
    path("hosts", hosts.host_list, name="hosts"),
    # `path`: a host name may hold "/" (eu-west/db-01); reverse() percent-encodes the rest.
    path("hosts/<path:name>", hosts.host_page, name="host"),
    path("silences", silences.silence_list, name="silences"),
    path("silences/new", silences.silence_new, name="silence-new"),
    path("silences/<int:silence_id>", silences.silence_page, name="silence"),
    path("silences/<int:silence_id>/expire", silences.silence_expire, name="silence-expire"),
    path("inhibitions", silences.inhibition_list, name="inhibitions"),
]
