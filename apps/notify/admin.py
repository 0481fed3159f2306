"""Admin for channels and deliveries; secrets in a channel's config are never shown.

The channel form shows the config redacted (secrets are stored sealed, apps.notify.sealing); a
value left as *** keeps the stored one, so a secret can be replaced but not read.
"""

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.utils.html import format_html

from apps.common.redact import REDACTED, redact
from apps.common.sealed import mask
from apps.notify.models import Delivery, NotificationChannel


def restore_redacted(edited: Any, stored: Any) -> Any:
    """Put the stored value back wherever the edited config still says ***."""
    if edited == REDACTED:
        return stored
    if isinstance(edited, dict) and isinstance(stored, dict):
        return {key: restore_redacted(value, stored.get(key)) for key, value in edited.items()}
    return edited


class ChannelForm(forms.ModelForm):
    class Meta:
        model = NotificationChannel
        fields = ["name", "driver", "config", "enabled"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["config"] = redact(mask(self.instance.config))

    def clean_config(self) -> Any:
        config = self.cleaned_data.get("config")
        if self.instance.pk:
            stored = NotificationChannel.objects.get(pk=self.instance.pk).config
            config = restore_redacted(config, stored)
        return config


@admin.register(NotificationChannel)
class NotificationChannelAdmin(admin.ModelAdmin):
    form = ChannelForm
    list_display = ["name", "driver", "enabled", "redacted_config", "updated_at"]
    list_filter = ["driver", "enabled"]
    search_fields = ["name"]

    @admin.display(description="config")
    def redacted_config(self, obj: NotificationChannel) -> str:
        return json.dumps(redact(mask(obj.config)), ensure_ascii=False)[:200]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "created_at",
        "driver",
        "channel",
        "destination",
        "kind",
        "coloured_status",
        "attempts",
        "response_code",
    ]
    list_filter = ["status", "driver", "kind"]
    search_fields = ["idempotency_key", "destination", "last_error", "node_id"]
    exclude = ["target_config"]
    readonly_fields = [
        *(field.name for field in Delivery._meta.fields if field.name != "target_config"),
        "shown_target_config",
    ]

    @admin.display(description="target config")
    def shown_target_config(self, obj: Delivery) -> str:
        return json.dumps(redact(mask(obj.target_config)), ensure_ascii=False)

    @admin.display(description="status", ordering="status")
    def coloured_status(self, obj: Delivery) -> str:
        colour = {"succeeded": "green", "failed": "red", "throttled": "#b80"}.get(
            obj.status, "#555"
        )
        return format_html('<b style="color: {}">{}</b>', colour, obj.status)

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
