"""List notification deliveries (all or failed) and re-send a failed one."""

import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.common.text import one_line
from apps.notify.models import Delivery
from apps.notify.services import RetryRefused, retry_delivery

MAX_LIMIT = 100_000
COLUMNS = [
    "ID",
    "CREATED",
    "DRIVER",
    "CHANNEL",
    "DESTINATION",
    "KIND",
    "STATUS",
    "TRIES",
    "CODE",
    "ERROR",
]


class Command(BaseCommand):
    help = "List notification deliveries, or re-send a failed one with --retry ID."

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--failed", action="store_true", help="Only deliveries that exhausted their attempts."
        )
        group.add_argument("--retry", metavar="ID", help="Re-send the failed delivery ID.")
        parser.add_argument(
            "--limit", type=int, default=50, help="How many rows to list (default 50)."
        )
        parser.add_argument(
            "--queue",
            action="store_true",
            help="With --retry: hand the re-send to the workers' notifications queue "
            "(needs CELERY_BROKER_URL).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.queue = options["queue"]
        if self.queue and options["retry"] is None:
            raise CommandError("--queue goes with --retry")
        if options["retry"] is not None:
            self.retry(options["retry"])
            return
        if not 1 <= options["limit"] <= MAX_LIMIT:
            raise CommandError(f"--limit must be between 1 and {MAX_LIMIT}")
        rows = Delivery.objects.select_related("channel")
        if options["failed"]:
            rows = rows.filter(status=Delivery.Status.FAILED)
        self.print_table(list(rows[: options["limit"]]))

    def retry(self, raw_id: str) -> None:
        if not re.fullmatch(r"[0-9]{1,18}", raw_id.strip()):  # ASCII digits, fits a bigint
            raise CommandError(f"--retry takes a delivery id (a number), got {raw_id!r}")
        raw_id = raw_id.strip()
        delivery = Delivery.objects.select_related("channel").filter(pk=int(raw_id)).first()
        if delivery is None:
            raise CommandError(f"delivery {raw_id} does not exist")
        if self.queue:
            self.enqueue(delivery)
            return
        try:
            delivery = retry_delivery(delivery)
        except RetryRefused as exc:
            raise CommandError(str(exc)) from exc
        if delivery.status != Delivery.Status.SUCCEEDED:
            raise CommandError(
                f"delivery {delivery.pk} failed again after {delivery.attempts} attempt(s) in "
                f"total: {delivery.last_error}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"delivery {delivery.pk} sent to {delivery.destination} "
                f"(attempts in total: {delivery.attempts})"
            )
        )

    def enqueue(self, delivery: Delivery) -> None:
        from django.conf import settings

        if not settings.CELERY_BROKER_URL:
            raise CommandError("--queue needs CELERY_BROKER_URL (workers to send it)")
        if delivery.status != Delivery.Status.FAILED:
            raise CommandError(
                f"delivery {delivery.pk} is {delivery.status}; "
                "only failed deliveries can be retried"
            )
        from apps.notify.tasks import retry_delivery_task
        from config.celery import app  # noqa: F401 - configures the task's app

        retry_delivery_task.delay(delivery.pk)
        self.stdout.write(f"delivery {delivery.pk} queued for a re-send (queue: notifications)")

    def print_table(self, rows: list[Delivery]) -> None:
        if not rows:
            self.stdout.write("no deliveries")
            return
        table = [
            [
                str(row.pk),
                row.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                row.driver,
                row.channel.name if row.channel else "inline",
                row.destination[:40],
                row.kind,
                row.status,
                str(row.attempts),
                str(row.response_code or "-"),
                one_line(row.last_error, 60),
            ]
            for row in rows
        ]
        widths = [max(len(line[i]) for line in [COLUMNS, *table]) for i in range(len(COLUMNS))]
        styles = {
            "succeeded": self.style.SUCCESS,
            "failed": self.style.ERROR,
            "throttled": self.style.WARNING,
            "silenced": self.style.WARNING,
            "inhibited": self.style.WARNING,
            "grouped": self.style.NOTICE,
        }
        header = "  ".join(h.ljust(w) for h, w in zip(COLUMNS, widths, strict=True))
        self.stdout.write(header.rstrip())
        for line in table:
            cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=True)]
            cells[6] = styles.get(line[6], str)(cells[6])
            self.stdout.write("  ".join(cells).rstrip())
