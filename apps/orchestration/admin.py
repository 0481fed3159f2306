"""Admin: definitions edited and validated with their graph drawn; runs shown as timelines."""

import json
from typing import Any

from django.contrib import admin
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from . import graph
from .definition import validate_definition
from .forms import PipelineDefinitionForm, problems_by_node
from .models import PipelineDefinition, PipelineDefinitionRevision, PipelineRun, StageExecution
from .outcomes import not_sent
from .records import outcome
from .secrets import mask
from .spec import build_plan

STATUS_COLOURS = {
    "COMPLETED": "#2e7d32",
    "SUCCEEDED": "#2e7d32",
    "FAILED": "#c62828",
    "PARTIAL": "#ef6c00",  # COMPLETED with failed optional nodes
    "RUNNING": "#1565c0",
    "PENDING": "#757575",
    "SKIPPED": "#8d6e63",
    "NOT_RUN": "#9e9e9e",
}


def pretty_json(value: Any) -> str:
    if value is None:
        return "-"
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return format_html('<pre style="margin:0; white-space:pre-wrap">{}</pre>', text)


def status_badge(status: str) -> str:
    colour = STATUS_COLOURS.get(status, "#616161")
    return format_html('<strong style="color:{}">{}</strong>', colour, status)


def format_ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f} ms" if value < 10_000 else f"{value / 1000:.1f} s"


class RevisionInline(admin.TabularInline):
    model = PipelineDefinitionRevision
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ("-version",)
    fields = ("version", "created_at", "config_json")
    readonly_fields = fields
    verbose_name = "earlier version"
    verbose_name_plural = "earlier versions (read-only)"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="config")
    def config_json(self, revision: PipelineDefinitionRevision) -> str:
        return pretty_json(mask(revision.config))


@admin.register(PipelineDefinition)
class PipelineDefinitionAdmin(admin.ModelAdmin):
    form = PipelineDefinitionForm
    list_display = ("name", "version", "is_active", "priority", "node_count", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("name", "description")
    readonly_fields = ("version", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "description", "is_active", "priority", "match")}),
        ("Definition", {"fields": ("config",)}),
        ("Version", {"fields": ("version", "created_at", "updated_at")}),
    )
    inlines = [RevisionInline]

    @admin.display(description="nodes")
    def node_count(self, definition: PipelineDefinition) -> int:
        nodes = (
            (definition.config or {}).get("nodes") if isinstance(definition.config, dict) else None
        )
        return len(nodes) if isinstance(nodes, list) else 0

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        form = context["adminform"].form
        context.update(self.graph_context(form, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    @staticmethod
    def graph_context(form: PipelineDefinitionForm, obj: PipelineDefinition | None) -> dict:
        """A drawing of what is edited: the submitted config if valid, else the stored one."""
        problems = getattr(form, "problems", [])
        config = None
        if form.is_bound and not problems and "config" in getattr(form, "cleaned_data", {}):
            config = form.cleaned_data["config"]
        elif obj is not None and not form.is_bound:
            config = obj.config  # drawn only: the text shown comes from the form (masked)
        context: dict[str, Any] = {"node_problems": problems_by_node(problems)}
        if config is None or validate_definition(config):
            return context
        plan = build_plan(config)
        context["graph_svg"] = mark_safe(graph.svg(plan))  # noqa: S308 - every text in it is escaped
        context["graph_text"] = graph.text(plan)
        context["graph_mermaid"] = graph.mermaid(plan)
        return context


class StageExecutionInline(admin.TabularInline):
    model = StageExecution
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ("position", "id")
    fields = (
        "position",
        "node_id",
        "node_type",
        "status",
        "attempts",
        "started_at",
        "duration_ms",
        "error",
        "reason",
    )
    readonly_fields = fields
    verbose_name_plural = "stage executions (read-only)"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def timeline_rows(run: PipelineRun) -> tuple[list[dict], float]:
    """One row per stage with its start offset and duration, scaled to the run's length."""
    stages = list(run.stages.order_by("position", "id"))
    rows = []
    for stage in stages:
        offset = None
        if run.started_at and stage.started_at:
            offset = max((stage.started_at - run.started_at).total_seconds() * 1000, 0.0)
        rows.append({"stage": stage, "offset_ms": offset, "duration_ms": stage.duration_ms})
    ends = [(r["offset_ms"] or 0) + (r["duration_ms"] or 0) for r in rows]
    total = max([run.duration_ms or 0, *ends]) or 1.0
    for row in rows:
        row["left_pct"] = round((row["offset_ms"] or 0) / total * 100, 2)
        row["width_pct"] = round(max((row["duration_ms"] or 0) / total * 100, 0.5), 2)
        row["colour"] = STATUS_COLOURS.get(row["stage"].status, "#616161")
        stage = row["stage"]
        row["output"] = (
            json.dumps(stage.output, indent=2, ensure_ascii=False, default=str)
            if stage.output is not None
            else ""
        )
        row["not_sent"] = "; ".join(
            f"{count} {status}" + (f" ({reason})" if reason else "")
            for status, count, reason in not_sent(stage.output)
        )
        row["attempt_log"] = (
            json.dumps(stage.attempt_log, indent=2, ensure_ascii=False, default=str)
            if stage.attempt_log
            else ""
        )
    return rows, total


@admin.register(PipelineRun)
class PipelineRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "status_display",
        "definition_display",
        "definition_version",
        "source",
        "environment",
        "duration",
        "created_at",
    )
    list_filter = ("status", "kind", "source", "environment", "definition_name", "created_at")
    search_fields = ("trace_id", "definition_name", "config_path", "error")
    list_select_related = ("definition",)
    date_hierarchy = "created_at"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "status_display",
                    "definition_display",
                    "definition_version",
                    "kind",
                    "source",
                    "environment",
                    "trace_id",
                    "incident",
                    "replay_of",
                    "error",
                )
            },
        ),
        ("Timing", {"fields": ("created_at", "started_at", "finished_at", "duration")}),
        ("Nodes", {"fields": ("timeline",)}),
        (
            "Input and definition",
            {"classes": ("collapse",), "fields": ("payload_json", "config_json")},
        ),
    )
    readonly_fields = (
        "status_display",
        "definition_display",
        "definition_version",
        "kind",
        "source",
        "environment",
        "trace_id",
        "incident",
        "replay_of",
        "error",
        "created_at",
        "started_at",
        "finished_at",
        "duration",
        "timeline",
        "payload_json",
        "config_json",
    )
    inlines = [StageExecutionInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="status", ordering="status")
    def status_display(self, run: PipelineRun) -> str:
        if run.status == "COMPLETED" and run.failed_nodes:
            return format_html(
                '<strong style="color:{}">{}</strong>',
                STATUS_COLOURS["PARTIAL"],
                outcome(run.status, run.failed_nodes),
            )
        return status_badge(run.status)

    @admin.display(description="definition", ordering="definition_name")
    def definition_display(self, run: PipelineRun) -> str:
        if run.definition_id:
            url = reverse("admin:orchestration_pipelinedefinition_change", args=[run.definition_id])
            return format_html('<a href="{}">{}</a>', url, run.definition_name or run.definition)
        if run.config_path:
            return f"file: {run.config_path}"
        return run.definition_name or f"{run.kind} (built-in)"

    @admin.display(description="duration", ordering="duration_ms")
    def duration(self, run: PipelineRun) -> str:
        return format_ms(run.duration_ms)

    @admin.display(description="timeline")
    def timeline(self, run: PipelineRun) -> str:
        rows, total = timeline_rows(run)
        return render_to_string(
            "admin/orchestration/pipelinerun/timeline.html",
            {"rows": rows, "total": format_ms(total), "run": run},
        )

    @admin.display(description="payload")
    def payload_json(self, run: PipelineRun) -> str:
        return pretty_json(run.payload)

    @admin.display(description="config run")
    def config_json(self, run: PipelineRun) -> str:
        return pretty_json(mask(run.config_snapshot))
