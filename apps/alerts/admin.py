from django.contrib import admin

from apps.alerts.models import Alert, AlertEvent, Incident, IncidentEvent


class AlertEventInline(admin.TabularInline):
    model = AlertEvent
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "reason", "trace_id", "created_at")


class IncidentEventInline(admin.TabularInline):
    model = IncidentEvent
    extra = 0
    can_delete = False
    readonly_fields = ("from_status", "to_status", "reason", "trace_id", "created_at")


class AlertInline(admin.TabularInline):
    model = Alert
    extra = 0
    can_delete = False
    fields = ("name", "status", "severity", "host", "source", "updated_at")
    readonly_fields = fields
    show_change_link = True


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "status", "severity", "source", "host", "updated_at")
    list_filter = ("status", "severity", "source")
    search_fields = ("title", "host", "group_key")
    readonly_fields = ("group_key", "created_at", "updated_at", "acknowledged_at", "resolved_at")
    inlines = [AlertInline, IncidentEventInline]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "status", "severity", "source", "host", "incident", "updated_at")
    list_filter = ("status", "severity", "source")
    search_fields = ("name", "host", "fingerprint")
    raw_id_fields = ("incident",)
    readonly_fields = ("fingerprint", "fingerprint_fields", "group_key", "content_hash")
    inlines = [AlertEventInline]
