from django.urls import path

from apps.api import webhooks

app_name = "alerts"

urlpatterns = [
    path("", webhooks.receive, name="webhook"),
    path("<str:source>/", webhooks.receive, name="webhook-source"),
]
