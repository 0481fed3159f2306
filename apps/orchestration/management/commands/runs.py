"""manage.py runs [--failed] [--json]: recent pipeline runs, so `run_pipeline --resume ID` and
`--replay ID` have an id to take."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apps.common.tables import age, aligned
from apps.orchestration.models import PipelineRun, RunStatus
from apps.orchestration.records import failed_count

MAX_LIMIT = 10_000


def partial(status: str, failed_nodes: list[str]) -> str:
    """The ERROR cell of a run that completed with failed optional nodes."""
    return (
        f"completed with {failed_count(failed_nodes)}"
        if status == "COMPLETED" and failed_nodes
        else ""
    )


class Command(BaseCommand):
    help = "Recent pipeline runs, newest first (--failed: only those that failed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--failed", action="store_true", help="Only FAILED runs.")
        parser.add_argument("--incident", type=int, help="Only the runs of this incident.")
        parser.add_argument("--limit", type=int, default=50, help="Rows to list (default 50).")
        parser.add_argument("--json", action="store_true", help="One JSON document.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not 1 <= options["limit"] <= MAX_LIMIT:
            raise CommandError(f"--limit must be between 1 and {MAX_LIMIT}")
        runs = PipelineRun.objects.order_by("-created_at", "-id")
        if options["failed"]:
            runs = runs.filter(status=RunStatus.FAILED)
        if options["incident"] is not None:
            runs = runs.filter(incident_id=options["incident"])
        total = runs.count()
        now = timezone.now()
        rows = [
            {
                "run_id": run.pk,
                "status": run.status,
                "definition": run.definition_name or run.config_path or run.kind,
                "definition_version": run.definition_version,
                "source": run.source,
                "incident_id": run.incident_id,
                "created_at": run.created_at.isoformat(),
                "age_s": round((now - run.created_at).total_seconds()),
                "duration_ms": run.duration_ms,
                "error": run.error or None,
                "failed_nodes": list(run.failed_nodes or []),
            }
            for run in runs.defer("payload", "config_snapshot")[: options["limit"]]
        ]
        if options["json"]:
            self.stdout.write(json.dumps({"items": rows, "count": total}, indent=2))
            return
        if not rows:
            self.stdout.write("No runs match.")
            return
        header = ["ID", "STATUS", "AGE", "DEFINITION", "SOURCE", "INCIDENT", "DURATION", "ERROR"]
        table = [
            [str(r["run_id"]), r["status"], age(r["age_s"]),
             r["definition"] + (f" v{v}" if (v := r["definition_version"]) else ""),
             r["source"], str(r["incident_id"] or "-"),
             f"{r['duration_ms']:.0f} ms" if r["duration_ms"] is not None else "-",
             (r["error"] or partial(r["status"], r["failed_nodes"]))[:60]]
            for r in rows
        ]  # fmt: skip
        head, lines = aligned(header, table)
        self.stdout.write(self.style.MIGRATE_HEADING(head))
        for row, line in zip(rows, lines, strict=True):
            if row["status"] == "FAILED":
                line = self.style.ERROR(line)
            elif row["failed_nodes"]:
                line = self.style.WARNING(line)
            self.stdout.write(line)
        self.stdout.write(f"{len(rows)} of {total} shown. Resume a FAILED one: manage.py "
                          "run_pipeline --resume ID; send again a page of one that completed with "
                          "failed nodes: manage.py deliveries --retry ID")  # fmt: skip
