"""manage.py alerts [--firing] [--json]: the stored alerts, newest change first."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apps.alerts.models import Alert
from apps.common.tables import age, aligned

MAX_LIMIT = 10_000


class Command(BaseCommand):
    help = "Alerts as stored (newest change first), with the incident each belongs to."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--firing", action="store_true", help="Only alerts still firing.")
        parser.add_argument("--host", default="", help="Only this host's alerts.")
        parser.add_argument("--limit", type=int, default=100, help="Rows to list (default 100).")
        parser.add_argument("--json", action="store_true", help="One JSON document.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not 1 <= options["limit"] <= MAX_LIMIT:
            raise CommandError(f"--limit must be between 1 and {MAX_LIMIT}")
        alerts = Alert.objects.order_by("-updated_at", "-id")
        if options["firing"]:
            alerts = alerts.filter(status=Alert.Status.FIRING)
        if options["host"]:
            alerts = alerts.filter(host=options["host"].strip().lower())
        total = alerts.count()
        rows = [
            {
                "id": alert.pk,
                "name": alert.name,
                "status": alert.status,
                "severity": alert.severity,
                "host": alert.host,
                "source": alert.source,
                "incident_id": alert.incident_id,
                "started_at": alert.started_at.isoformat() if alert.started_at else None,
                "updated_at": alert.updated_at.isoformat(),
                "age_s": round((timezone.now() - alert.updated_at).total_seconds()),
            }
            for alert in alerts.defer("labels", "annotations", "fingerprint_fields")[
                : options["limit"]
            ]
        ]
        if options["json"]:
            self.stdout.write(json.dumps({"items": rows, "count": total}, indent=2))
            return
        if not rows:
            self.stdout.write("No alerts match.")
            return
        header = ["ID", "STATUS", "SEVERITY", "CHANGED", "SOURCE", "HOST", "INCIDENT", "NAME"]
        table = [
            [str(r["id"]), r["status"], r["severity"], age(r["age_s"]), r["source"],
             r["host"] or "-", str(r["incident_id"] or "-"), r["name"][:70]]
            for r in rows
        ]  # fmt: skip
        head, lines = aligned(header, table)
        self.stdout.write(self.style.MIGRATE_HEADING(head))
        for row, line in zip(rows, lines, strict=True):
            firing = row["status"] == Alert.Status.FIRING
            style = self.style.ERROR if firing and row["severity"] == "critical" else None
            self.stdout.write(style(line) if style else line)
        self.stdout.write(f"{len(rows)} of {total} shown.")
