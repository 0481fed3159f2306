from django.db import models
from django.utils import timezone


class CheckRun(models.Model):
    check_name = models.CharField(max_length=50, db_index=True)
    host = models.CharField(max_length=255)
    status = models.CharField(max_length=20)  # ok | warning | critical | unknown
    message = models.TextField(blank=True)
    metrics = models.JSONField(default=dict)
    duration_ms = models.FloatField(default=0)
    trace_id = models.CharField(max_length=64, blank=True, db_index=True)
    pipeline_run = models.ForeignKey(
        "orchestration.PipelineRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="check_runs",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.check_name}@{self.host} [{self.status}]"
