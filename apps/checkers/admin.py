from django.contrib import admin

from .models import CheckRun


@admin.register(CheckRun)
class CheckRunAdmin(admin.ModelAdmin):
    list_display = ("created_at", "check_name", "host", "status", "message", "duration_ms")
    list_filter = ("status", "check_name", "host")
    search_fields = ("message", "trace_id")
    readonly_fields = [f.name for f in CheckRun._meta.fields]
