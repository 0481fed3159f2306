from django.db import models
from django.utils import timezone


class AnalysisRun(models.Model):
    provider = models.CharField(max_length=30)
    requested_provider = models.CharField(max_length=30)
    model = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20)  # succeeded | failed | fallback | cached
    input_tokens = models.PositiveIntegerField(null=True, blank=True)
    output_tokens = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.FloatField(default=0)
    error = models.TextField(blank=True)
    trace_id = models.CharField(max_length=64, blank=True, db_index=True)
    cache_key = models.CharField(max_length=64, blank=True, db_index=True)
    output = models.JSONField(default=dict)
    incident = models.ForeignKey(
        "alerts.Incident",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="analyses",
    )
    pipeline_run = models.ForeignKey(
        "orchestration.PipelineRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="analyses",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.provider}/{self.model} [{self.status}]"
