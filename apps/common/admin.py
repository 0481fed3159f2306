"""API keys in the admin: see who holds which scopes, and deactivate a key (it gets 401 at once).

Keys are created with `manage.py create_api_key` (the raw key is shown once), never here.
"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.common.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "scopes", "is_active", "created_at", "last_used_at")
    list_filter = ("is_active",)
    search_fields = ("name", "prefix")
    fields = ("name", "prefix", "scopes", "is_active", "created_at", "last_used_at")
    readonly_fields = ("name", "prefix", "scopes", "created_at", "last_used_at")
    actions = ("deactivate", "activate")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Deactivate the selected keys (their requests get 401)")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        count = queryset.filter(is_active=True).update(is_active=False)
        self.message_user(request, f"Deactivated {count} key(s).", messages.SUCCESS)

    @admin.action(description="Activate the selected keys")
    def activate(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        count = queryset.filter(is_active=False).update(is_active=True)
        self.message_user(request, f"Activated {count} key(s).", messages.SUCCESS)
