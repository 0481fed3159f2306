"""manage.py incidents [list|show ID|ack ID|resolve ID]: what is open, and act on it."""

import getpass
import json
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder

from apps.alerts.actions import ActionError, Actor, acknowledge, resolve
from apps.alerts.models import Incident
from apps.alerts.queries import MAX_LIMIT, FilterError, IncidentFilters, incident_page
from apps.common.tables import age, aligned
from apps.orchestration.incident_story import incident_story

ACTIONS = ("list", "show", "ack", "resolve")


def who() -> str:
    """The person at the terminal (through sudo too)."""
    try:
        return os.environ.get("SUDO_USER") or getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for this uid (a container)
        return f"uid {os.getuid()}"


class Command(BaseCommand):
    help = (
        "Incidents worst first (default: open and acknowledged); show one's whole story; "
        "acknowledge or resolve one (recorded on its timeline with your name)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", nargs="?", default="list", choices=ACTIONS)
        parser.add_argument("id", nargs="?", type=int, help="The incident (show, ack, resolve).")
        parser.add_argument(
            "--status", default="active", help="open, acknowledged, resolved, active or all."
        )
        parser.add_argument("--host", default="", help="Only this host's incidents.")
        parser.add_argument("--source", default="", help="Only this vendor's incidents.")
        parser.add_argument("--severity", default="", help="critical, warning or info.")
        parser.add_argument("--limit", type=int, default=100, help="Rows to list (default 100).")
        parser.add_argument("--comment", default="", help="Why (ack; required to resolve).")
        parser.add_argument("--by", default="", help="Who acts (default: your login name).")
        parser.add_argument("--json", action="store_true", help="One JSON document.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action != "list" and options["id"] is None:
            raise CommandError(f"incidents {action} needs an incident id")
        getattr(self, f"do_{action}")(options)

    def emit_json(self, value: Any) -> None:
        self.stdout.write(json.dumps(value, indent=2, cls=DjangoJSONEncoder))

    def do_list(self, options: dict) -> None:
        if not 1 <= options["limit"] <= MAX_LIMIT:
            raise CommandError(f"--limit must be between 1 and {MAX_LIMIT}")
        try:
            filters = IncidentFilters.parse(
                options["status"], options["host"], options["source"], options["severity"]
            )
        except FilterError as exc:
            raise CommandError(str(exc)) from None
        page = incident_page(filters, limit=options["limit"])
        if options["json"]:
            self.emit_json(
                {"items": page.rows, "count": page.total, "by_severity": page.by_severity}
            )
            return
        if not page.rows:
            self.stdout.write("No incidents match.")
            return
        header = ["ID", "SEVERITY", "STATUS", "AGE", "HOST", "ALERTS", "TITLE", "LAST PAGE"]
        table = [
            [
                str(row["id"]),
                row["severity"],
                row["status"],
                age(row["age_s"]),
                row["host"] or "-",
                f"{row['firing_count']}/{row['alert_count']}",
                row["title"][:60],
                self.page_text(row["last_delivery"]),
            ]
            for row in page.rows
        ]
        head, lines = aligned(header, table)
        self.stdout.write(self.style.MIGRATE_HEADING(head))
        for row, line in zip(page.rows, lines, strict=True):
            self.stdout.write(self.severity_style(row["severity"])(line))
        shown = len(page.rows)
        counts = ", ".join(f"{n} {name}" for name, n in page.by_severity.items() if n)
        self.stdout.write(f"{shown} of {page.total} shown ({counts or 'none'}).")

    @staticmethod
    def page_text(delivery: dict | None) -> str:
        if not delivery:
            return "none"
        code = f" {delivery['response_code']}" if delivery["response_code"] else ""
        return f"{delivery['driver']} {delivery['status']}{code}"

    def incident(self, incident_id: int) -> Incident:
        incident = Incident.objects.filter(pk=incident_id).first() if incident_id > 0 else None
        if incident is None:
            raise CommandError(f"Incident {incident_id} does not exist (see: manage.py incidents)")
        return incident

    def do_show(self, options: dict) -> None:
        story = incident_story(self.incident(options["id"]))
        if options["json"]:
            self.emit_json(story)
            return
        detail = story["incident"]
        self.stdout.write(self.style.MIGRATE_HEADING(f"Incident {detail['id']}: {detail['title']}"))
        for label in ("status", "severity", "host", "source", "created_at", "acknowledged_at",
                      "resolved_at"):  # fmt: skip
            self.stdout.write(f"  {label.ljust(15)}  {detail[label] or '-'}")
        analysis = story["latest_analysis"] or {}
        if analysis:
            self.stdout.write(self.style.MIGRATE_HEADING("Latest analysis:"))
            self.stdout.write(f"  {analysis.get('summary', '')}")
            if analysis.get("probable_cause"):
                self.stdout.write(f"  Probable cause: {analysis['probable_cause']}")
        self.stdout.write(self.style.MIGRATE_HEADING("Timeline (newest first):"))
        for entry in story["timeline"]:
            actor = entry["actor"]
            actor = f" [{actor}]" if actor and actor not in entry["text"] else ""
            self.stdout.write(
                f"  {entry['at'][:19]}  {entry['kind'].ljust(8)}  {entry['status'][:12].ljust(12)}"
                f"  {entry['text']}{actor}"
            )

    def act(self, options: dict, action: Any) -> None:
        self.incident(options["id"])
        actor = Actor(options["by"].strip() or who(), "cli")
        try:
            event = action(options["id"], actor, options["comment"])
        except ActionError as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.emit_json({"incident": options["id"], "status": event.to_status,
                            "event": event.reason})  # fmt: skip
            return
        self.stdout.write(self.style.SUCCESS(f"Incident {options['id']}: {event.reason}"))

    def do_ack(self, options: dict) -> None:
        self.act(options, acknowledge)

    def do_resolve(self, options: dict) -> None:
        self.act(options, resolve)

    def severity_style(self, severity: str) -> Any:
        return {"critical": self.style.ERROR, "warning": self.style.WARNING}.get(
            severity, lambda text: text
        )
