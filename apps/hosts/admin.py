from django.contrib import admin

from .models import Host, HostSnapshot


@admin.register(Host)
class HostAdmin(admin.ModelAdmin):
    """Aliases and labels are the operator's to edit; what agents report is read-only."""

    list_display = ("name", "last_seen", "last_source", "worst_status", "silent_since")
    list_filter = ("last_source",)
    search_fields = ("name",)
    fields = (
        "name", "aliases", "labels", "first_seen", "last_seen", "last_source", "silent_since",
        "statuses", "snapshot_at", "snapshot",
    )  # fmt: skip
    readonly_fields = (
        "name", "first_seen", "last_seen", "last_source", "silent_since", "statuses",
        "snapshot_at", "snapshot",
    )  # fmt: skip

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False  # hosts appear when they report


@admin.register(HostSnapshot)
class HostSnapshotAdmin(admin.ModelAdmin):
    list_display = ("host", "source", "observed_at", "received_at")
    list_filter = ("source",)
    search_fields = ("host__name",)
    readonly_fields = ("host", "source", "observed_at", "received_at", "checks", "info")

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False
