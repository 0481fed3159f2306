"""manage.py prune --older-than 30d [--dry-run]: the retention job to run from cron."""

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone

from apps.alerts.models import Alert, AlertEvent, Incident
from apps.checkers.models import CheckRun
from apps.hosts.services import prunable_snapshots
from apps.intelligence.models import AnalysisRun
from apps.notify.models import Delivery
from apps.orchestration.models import FINAL_RUN_STATUSES, PipelineRun, RunStatus, StageExecution

DURATION_RE = re.compile(r"^\s*([0-9]{1,9})\s*([dhm])\s*$")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}
ACTIVE_INCIDENT = [Incident.Status.OPEN, Incident.Status.ACKNOWLEDGED]
UNFINISHED_RUN = [RunStatus.PENDING, RunStatus.RUNNING]
DEFAULT_BATCH = 1000
MAX_BATCH = 100_000


def parse_duration(text: str) -> timedelta:
    """'30d', '12h' or '90m' as a timedelta; ValueError with a one-line reason otherwise."""
    match = DURATION_RE.match(text or "")
    if not match:
        raise ValueError(
            f"Invalid --older-than: {text!r} (use a number and d, h or m: 30d, 12h, 90m)"
        )
    amount, unit = int(match.group(1)), match.group(2)
    if amount <= 0:
        raise ValueError("--older-than must be more than 0")
    try:
        return timedelta(**{UNITS[unit]: amount})
    except OverflowError:
        raise ValueError(f"--older-than is too large: {text!r}") from None


@dataclass
class Target:
    """One kind of record to prune; `cascades` are the rows deleted along with it."""

    label: str
    rows: QuerySet
    # label -> (model, lookup from it to the pruned rows)
    cascades: dict[str, tuple[type[models.Model], str]]


def targets(cutoff: datetime) -> list[Target]:
    runs = PipelineRun.objects.filter(status__in=FINAL_RUN_STATUSES, finished_at__lt=cutoff)
    checks = CheckRun.objects.filter(created_at__lt=cutoff)
    # A delivery of an open incident is what its resolve notification goes back to, and one
    # of an unfinished run is what stops a redelivered task from sending twice: both stay.
    deliveries = (
        Delivery.objects.filter(created_at__lt=cutoff)
        .exclude(incident__status__in=ACTIVE_INCIDENT)
        .exclude(pipeline_run__status__in=UNFINISHED_RUN)
    )
    alerts = Alert.objects.filter(status=Alert.Status.RESOLVED, updated_at__lt=cutoff).exclude(
        incident__status__in=ACTIVE_INCIDENT
    )
    analyses = AnalysisRun.objects.filter(created_at__lt=cutoff).exclude(
        incident__status__in=ACTIVE_INCIDENT
    )
    return [
        Target("Pipeline runs", runs, {"Stage executions": (StageExecution, "run__in")}),
        Target("Check runs", checks, {}),
        Target("Analysis runs", analyses, {}),
        Target("Deliveries", deliveries, {}),
        Target("Alerts", alerts, {"Alert events": (AlertEvent, "alert__in")}),
        Target("Host snapshots", prunable_snapshots(cutoff), {}),
    ]


def count(target: Target) -> Counter:
    counts = Counter({target.label: target.rows.count()})
    for label, (model, lookup) in target.cascades.items():
        counts[label] = model.objects.filter(**{lookup: target.rows}).count()
    return counts


def delete_in_batches(target: Target, batch_size: int) -> Counter:
    """Delete the target's rows batch_size ids at a time; each batch is its own transaction."""
    labels = {target.rows.model._meta.label: target.label}
    labels |= {model._meta.label: label for label, (model, _) in target.cascades.items()}
    deleted: Counter = Counter({label: 0 for label in labels.values()})
    while True:
        ids = list(target.rows.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        # Filtering again by the conditions skips a row that changed since it was selected.
        total, per_model = target.rows.filter(pk__in=ids).delete()
        for model_label, number in per_model.items():
            if model_label in labels:
                deleted[labels[model_label]] += number
        if total == 0:
            return deleted


class Command(BaseCommand):
    help = (
        "Delete finished pipeline runs (with their stage records), check runs, analysis runs, "
        "deliveries and resolved alerts older than --older-than, in batches. Open incidents, "
        "their alerts, analyses and deliveries, and unfinished runs are kept. Schedule it daily "
        "from cron."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            required=True,
            metavar="AGE",
            help="Age cutoff: a number and a unit, d (days), h (hours) or m (minutes): 30d, 12h.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH,
            help=f"Rows per delete statement (default {DEFAULT_BATCH}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            age = parse_duration(options["older_than"])
            cutoff = timezone.now() - age
        except (ValueError, OverflowError) as exc:
            message = str(exc) if isinstance(exc, ValueError) else "--older-than is too large"
            raise CommandError(message) from None
        if not 1 <= options["batch_size"] <= MAX_BATCH:
            raise CommandError(f"--batch-size must be between 1 and {MAX_BATCH}")
        dry_run = options["dry_run"]
        counts: Counter = Counter()
        for target in targets(cutoff):
            if dry_run:
                counts.update(count(target))
            else:
                counts.update(delete_in_batches(target, options["batch_size"]))
        self.report(options, cutoff, counts, dry_run)

    def report(self, options: dict, cutoff: datetime, counts: Counter, dry_run: bool) -> None:
        if options["verbosity"] < 1:
            return
        when = cutoff.strftime("%Y-%m-%d %H:%M:%S %Z")
        heading = "Would delete" if dry_run else "Deleted"
        self.stdout.write(
            self.style.MIGRATE_HEADING(
                f"{heading} records older than {options['older_than'].strip()} (before {when}):"
            )
        )
        width = max(len(label) for label in counts)
        for label, number in counts.items():
            self.stdout.write(f"  {label:<{width}}  {number:>9,}")
        total = sum(counts.values())
        if dry_run:
            self.stdout.write(
                self.style.WARNING(
                    f"Dry run: {total:,} rows would be deleted; nothing was deleted."
                )
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"Deleted {total:,} rows."))
