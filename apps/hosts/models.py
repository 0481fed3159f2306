"""The fleet: every host the hub has heard of, with its latest snapshot and a short history."""

from django.db import models
from django.utils import timezone


class Source(models.TextChoices):
    AGENT = "agent"
    PROMETHEUS = "prometheus"
    LOCAL = "local"


class Host(models.Model):
    name = models.CharField(max_length=255, unique=True)
    aliases = models.JSONField(default=list, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now, db_index=True)
    last_source = models.CharField(max_length=20, choices=Source.choices, default=Source.AGENT)
    # The latest snapshot: {"checks": {name: {status, message, readings}}, "host": {...}}
    snapshot = models.JSONField(default=dict, blank=True)
    snapshot_at = models.DateTimeField(null=True, blank=True)
    # Each check's last status, to tell which changed (a change is ingested as an alert).
    statuses = models.JSONField(default=dict, blank=True)
    history_at = models.DateTimeField(null=True, blank=True)  # the newest HostSnapshot row
    # Set when the host stopped reporting and its "stopped reporting" alert fired.
    silent_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def worst_status(self) -> str:
        from apps.common.severity import worst

        return worst(list(self.statuses.values()), default="unknown")


class HostSnapshot(models.Model):
    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="snapshots")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.AGENT)
    observed_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    checks = models.JSONField(default=dict)
    info = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["host", "-id"])]

    def __str__(self) -> str:
        return f"{self.host_id}@{self.observed_at:%Y-%m-%d %H:%M:%S}"
