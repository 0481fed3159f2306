from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class NotificationChannel(models.Model):
    name = models.SlugField(max_length=100, unique=True)
    driver = models.CharField(max_length=30)
    config = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.driver})"

    def save(self, *args, **kwargs):
        """Refuse to store a channel whose driver, keys or templates are invalid."""
        from apps.notify.sealing import seal_config

        self.clean()
        previous = None
        if self.pk:
            previous = (
                type(self).objects.filter(pk=self.pk).values_list("config", flat=True).first()
            )
        self.config = seal_config(self.config, previous)  # secrets are stored encrypted
        self.updated_at = timezone.now()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        from apps.notify.config import channel_problems

        problems = channel_problems(self.driver, self.config)
        if problems:
            raise ValidationError({"config": problems})


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        THROTTLED = "throttled"
        SILENCED = "silenced"
        INHIBITED = "inhibited"
        GROUPED = "grouped"  # waiting in a NotificationGroup; settled when the group is sent

    channel = models.ForeignKey(
        NotificationChannel,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    driver = models.CharField(max_length=30)
    destination = models.CharField(max_length=300, blank=True, help_text="Redacted identity.")
    target = models.CharField(
        max_length=100,
        blank=True,
        db_index=True,
        help_text="Driver and a digest of the destination: what throttling compares.",
    )
    target_config = models.JSONField(
        default=dict, blank=True, help_text="The inline driver config, secrets redacted."
    )
    message = models.JSONField(
        default=dict, blank=True, help_text="The rendered message, secrets redacted."
    )
    kind = models.CharField(max_length=20, default="trigger")  # trigger | resolve | test
    incident = models.ForeignKey(
        "alerts.Incident",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    pipeline_run = models.ForeignKey(
        "orchestration.PipelineRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    node_id = models.CharField(max_length=100, blank=True)
    group = models.ForeignKey(
        "NotificationGroup",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
        help_text="The group this page waited in (grouped notifications).",
    )
    idempotency_key = models.CharField(max_length=300, unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    severity = models.CharField(max_length=20, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    response_code = models.IntegerField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        indexes = [models.Index(fields=["incident", "target"], name="delivery_incident_target")]

    def __str__(self) -> str:
        return f"Delivery {self.pk} {self.driver} [{self.status}]"


class NotificationGroup(models.Model):
    """Pages for one target and the same `group_by` values, collected for `group_wait` and sent
    as one message (apps.notify.grouping)."""

    class Status(models.TextChoices):
        COLLECTING = "collecting"
        CLOSED = "closed"  # its message is being sent or was sent: see `delivery`

    key = models.CharField(max_length=300, db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.COLLECTING)
    node_id = models.CharField(max_length=100, blank=True)
    labels = models.JSONField(default=dict, blank=True, help_text="The group_by values.")
    send_after = models.DateTimeField(db_index=True)
    delivery = models.OneToOneField(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="sent_group"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"],
                condition=models.Q(status="collecting"),
                name="one_collecting_group_per_key",
            )
        ]

    def __str__(self) -> str:
        return f"group #{self.pk} {self.key} [{self.status}]"
