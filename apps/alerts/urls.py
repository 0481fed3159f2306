from django.urls import path

from apps.alerts import views

app_name = "alerts"

urlpatterns = [
    path("", views.receive, name="webhook"),
    path("<str:source>/", views.receive, name="webhook-source"),
]
