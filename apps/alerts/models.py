from django.db import models
from django.utils import timezone


class Severity(models.TextChoices):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


class Incident(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        ACKNOWLEDGED = "acknowledged"
        RESOLVED = "resolved"

    title = models.CharField(max_length=500)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    severity = models.CharField(max_length=20, choices=Severity.choices, default=Severity.WARNING)
    group_key = models.CharField(max_length=200)
    source = models.CharField(max_length=50, blank=True)
    host = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # At most one active incident per group key: concurrent webhooks cannot open two.
            models.UniqueConstraint(
                fields=["group_key"],
                condition=models.Q(status__in=["open", "acknowledged"]) & ~models.Q(group_key=""),
                name="one_active_incident_per_group",
            )
        ]
        # The console's Now page and `incidents --status` filter on status among many resolved.
        # group_key as a Meta index: db_index would add a LIKE index on PostgreSQL that no query
        # uses and every insert maintains.
        indexes = [
            models.Index(fields=["status", "severity"], name="incident_status_severity"),
            models.Index(fields=["group_key"], name="incident_group_key"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title} [{self.status}]"

    def as_dict(self) -> dict:
        """The one plain-data view of an incident: templates, analyses and run outputs."""
        return {
            "id": self.pk,
            "title": self.title,
            "status": self.status,
            "severity": self.severity,
            "host": self.host,
            "source": self.source,
            "group_key": self.group_key,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
        }


def incident_title(name: str, host: str) -> str:
    """The title of the incident an alert opens: "DiskFull on web-07", or the name alone when
    it has no host or already names it ("web-07 stopped reporting")."""
    named = not host or host in name
    return (name if named else f"{name} on {host}")[:500]


# Incidents that alerts of their group key still join; at most one per group key (see Meta).
ACTIVE_STATUSES = (Incident.Status.OPEN, Incident.Status.ACKNOWLEDGED)


class Alert(models.Model):
    class Status(models.TextChoices):
        FIRING = "firing"
        RESOLVED = "resolved"

    source = models.CharField(max_length=50)
    fingerprint = models.CharField(max_length=200)
    fingerprint_fields = models.JSONField(default=list, help_text="What made the fingerprint.")
    group_key = models.CharField(max_length=200, blank=True)
    name = models.CharField(max_length=500)
    status = models.CharField(max_length=20, choices=Status.choices)
    severity = models.CharField(max_length=20, choices=Severity.choices)
    host = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    labels = models.JSONField(default=dict)
    annotations = models.JSONField(default=dict)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    url = models.CharField(max_length=2000, blank=True, default="")
    group_reason = models.TextField(
        blank=True, default="", help_text="Why the alert is in its incident (or in none)."
    )
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # Fingerprint first: a webhook looks its alerts up by source and fingerprint, and a
            # PostgreSQL table filled since its last ANALYZE (a storm on a new database) made
            # the planner use the source alone and filter every alert of the vendor (2-6 ms a
            # lookup at 13,000 alerts; 0.08 ms with fingerprint leading).
            models.UniqueConstraint(fields=["fingerprint", "source"], name="alert_identity")
        ]
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.source}:{self.name} [{self.status}]"


class AlertEvent(models.Model):
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30)
    reason = models.TextField(blank=True)
    trace_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.reason}"


class IncidentEvent(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    reason = models.TextField(blank=True)
    # Who acted ("" for the pipeline itself) and from where: web, cli, api or admin. Database
    # defaults, because ingestion writes events with hand-written INSERTs that omit them.
    actor = models.CharField(max_length=150, blank=True, default="", db_default="")
    via = models.CharField(max_length=20, blank=True, default="", db_default="")
    trace_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}: {self.reason}"


class Silence(models.Model):
    """Alerts matching `matchers` are not notified while the silence is active.

    One-off: active in [starts_at, ends_at). Recurring (a maintenance window): `schedule` in cron
    syntax opens a window of `duration_s` seconds on the wall clock of `time_zone`, from
    `starts_at` on and, when `ends_at` is set, until then. `expired_at` ends either early.
    """

    matchers = models.JSONField(help_text='[{"name", "op", "value"}], ANDed (Alertmanager).')
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True)
    schedule = models.CharField(max_length=100, blank=True, help_text='Cron, e.g. "0 2 * * SUN".')
    duration_s = models.PositiveIntegerField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, blank=True, default="UTC")
    created_by = models.CharField(max_length=150, blank=True)
    comment = models.TextField(blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    expired_by = models.CharField(max_length=150, blank=True, default="", db_default="")
    created_at = models.DateTimeField(default=timezone.now)
    ended_swept_until = models.DateTimeField(
        null=True, blank=True, help_text="Ends up to here were swept (notifications sent)."
    )

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"silence #{self.pk} ({self.comment or 'no comment'})"


class InhibitionRule(models.Model):
    """While an alert matching `source_matchers` fires, alerts matching `target_matchers` whose
    `equal` labels have the same values are not notified (Alertmanager's inhibit_rules)."""

    name = models.SlugField(max_length=100, unique=True)
    source_matchers = models.JSONField(help_text='Matcher strings, e.g. ["alertname=HostDown"].')
    target_matchers = models.JSONField(help_text='Matcher strings, e.g. ["severity!=critical"].')
    equal = models.JSONField(default=list, blank=True, help_text='Label names, e.g. ["host"].')
    enabled = models.BooleanField(default=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.clean()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from apps.alerts.inhibition import rule_problems

        problems = rule_problems(self.source_matchers, self.target_matchers, self.equal)
        if problems:
            raise ValidationError(problems)
