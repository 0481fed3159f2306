from django.db import models
from django.utils import timezone


class PipelineDefinition(models.Model):
    name = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    config = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1)
    is_active = models.BooleanField(default=True)
    match = models.JSONField(
        null=True, blank=True, help_text="Routing conditions; empty means never chosen by routing."
    )
    priority = models.IntegerField(default=100, help_text="Lowest value is tried first.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["priority", "name"]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    def save(self, *args, **kwargs):
        """Seal the config's secrets; bump the version and keep the previous config whenever
        config changes."""
        from apps.orchestration.secrets import seal_definition

        previous = None
        if self.pk:
            previous = (
                PipelineDefinition.objects.filter(pk=self.pk).values("config", "version").first()
            )
        self.config = seal_definition(self.config, previous["config"] if previous else None)
        if previous and previous["config"] != self.config:
            PipelineDefinitionRevision.objects.get_or_create(
                definition_id=self.pk,
                version=previous["version"],
                defaults={"config": previous["config"]},
            )
            self.version = previous["version"] + 1
        self.updated_at = timezone.now()
        super().save(*args, **kwargs)


class PipelineDefinitionRevision(models.Model):
    definition = models.ForeignKey(
        PipelineDefinition, on_delete=models.CASCADE, related_name="revisions"
    )
    version = models.PositiveIntegerField()
    config = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["definition", "version"], name="revision_version")
        ]
        ordering = ["definition", "version"]

    def __str__(self) -> str:
        return f"v{self.version}"


class RunStatus(models.TextChoices):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


FINAL_RUN_STATUSES = {RunStatus.COMPLETED, RunStatus.FAILED}


class NodeStatus(models.TextChoices):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"
    NOT_RUN = "NOT_RUN"


class PipelineRun(models.Model):
    definition = models.ForeignKey(
        PipelineDefinition, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    definition_name = models.CharField(max_length=100, blank=True)
    definition_version = models.PositiveIntegerField(null=True, blank=True)
    config_path = models.CharField(max_length=1000, blank=True)
    config_snapshot = models.JSONField(default=dict, help_text="The definition config run.")
    kind = models.CharField(max_length=20, default="definition")  # definition | config | fixed
    trace_id = models.CharField(max_length=64)
    source = models.CharField(max_length=50, default="cli")
    environment = models.CharField(max_length=50, default="development")
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.PENDING)
    payload = models.JSONField(default=dict, help_text="The run's input, secrets redacted.")
    incident = models.ForeignKey(
        "alerts.Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    replay_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replays",
        db_index=False,  # run_replay_of: a partial index, as almost no run is a replay
    )
    error = models.TextField(blank=True)
    failed_nodes = models.JSONField(
        default=list, blank=True, help_text="Ids of the nodes that failed, required or not."
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    recoveries = models.PositiveIntegerField(
        default=0, help_text="Times the run was taken over or resumed after its worker died."
    )
    # db_default too: code from before this field, still running during a rolling upgrade, can
    # go on inserting runs.
    priority = models.PositiveSmallIntegerField(
        default=5,
        db_default=5,
        help_text="0 is taken first (critical incidents); see orchestration.priority.",
    )

    class Meta:
        ordering = ["-id"]
        indexes = [
            # The local runner's next-run query: PENDING, most urgent first, oldest first.
            # Also every query by status alone (its first column).
            models.Index(fields=["status", "priority", "id"], name="run_queue_order"),
            # A Meta index, not db_index: PostgreSQL would add a LIKE index (pattern_ops) that
            # no query uses and every insert maintains.
            models.Index(fields=["trace_id"], name="run_trace_id"),
            models.Index(
                fields=["replay_of"],
                name="run_replay_of",
                condition=models.Q(replay_of__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} {self.definition_name or self.config_path} [{self.status}]"


class StageExecution(models.Model):
    # No index of its own: stage_per_node (run, node_id) serves every lookup by run.
    run = models.ForeignKey(
        PipelineRun, on_delete=models.CASCADE, related_name="stages", db_index=False
    )
    node_id = models.CharField(max_length=100)
    node_type = models.CharField(max_length=50)
    position = models.PositiveIntegerField(default=0, help_text="Order in which it ran.")
    status = models.CharField(max_length=20, choices=NodeStatus.choices, default=NodeStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    reason = models.TextField(blank=True)
    attempt_log = models.JSONField(default=list, help_text="One entry per attempt.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "node_id"], name="stage_per_node")]
        ordering = ["run", "position", "id"]

    def __str__(self) -> str:
        return f"{self.node_id} [{self.status}]"
