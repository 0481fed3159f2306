"""manage.py silence add|list|expire|query: silences and maintenance windows (docs/silences.md)."""

import json
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apps.alerts import silences
from apps.alerts.silences import SilenceError
from apps.common.text import one_line

from .incidents import who

COLUMNS = ["ID", "STATE", "MATCHERS", "STARTS", "ENDS", "SCHEDULE", "BY", "COMMENT"]


def parse_when(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"--until {text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise CommandError(f"--until {text!r} has no time zone (add Z or +01:00)")
    return moment


def stamp(value: str | None) -> str:
    return value[:16].replace("T", " ") if value else "-"


class Command(BaseCommand):
    help = "Silences: add one (or a recurring maintenance window), list, expire, or test matchers."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        add = sub.add_parser("add", help="Silence alerts matching MATCHER... (ANDed).")
        example = 'e.g. alertname=DiskFull host=~"web-0[1-7]"'
        add.add_argument("matchers", nargs="+", metavar="MATCHER", help=f"Matchers, {example}.")
        when = add.add_mutually_exclusive_group()
        when.add_argument("--until", help="End, ISO 8601 with a zone (2026-12-05T14:00Z).")
        add.add_argument("--duration", help="Length: 2h, 90m, 1h30m (for --every: of each window).")
        every = 'Recurring window start in cron syntax, e.g. "0 2 * * SUN".'
        add.add_argument("--every", metavar="CRON", help=every)
        add.add_argument("--tz", help="Time zone of --every (Europe/Berlin; default UTC).")
        add.add_argument("--comment", required=True, help="Why; shown on every skipped page.")
        add.add_argument("--created-by", default="", help="Who (default: your login name).")
        listing = sub.add_parser("list", help="Current and future silences.")
        listing.add_argument("--all", action="store_true", help="Ended and expired ones too.")
        listing.add_argument("--json", action="store_true", help="One JSON document.")
        expire = sub.add_parser("expire", help="End a silence now.")
        expire.add_argument("id", help="The silence id.")
        expire.add_argument("--by", default="", help="Who expires it (default: your login name).")
        query = sub.add_parser("query", help="Which firing alerts MATCHER... would silence.")
        query.add_argument("matchers", nargs="+", metavar="MATCHER")
        query.add_argument("--json", action="store_true", help="One JSON document.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"do_{options['action']}")(options)
        except SilenceError as exc:
            raise CommandError(str(exc)) from None

    def do_add(self, options: dict) -> None:
        until = parse_when(options["until"]) if options["until"] else None
        silence = silences.create(
            options["matchers"],
            comment=options["comment"],
            created_by=options["created_by"].strip() or who(),
            duration=options["duration"],
            until=until,
            every=options["every"],
            tz=options["tz"],
        )
        data = silences.as_dict(silence)
        if silence.schedule:
            what = f"every {silence.schedule!r} ({silence.time_zone}) for {options['duration']}"
        else:
            what = f"until {stamp(data['ends_at'])} UTC"
        self.stdout.write(self.style.SUCCESS(f"silence #{silence.pk} added: ")
                          + f"{data['matchers']} {what} [{data['state']}]")  # fmt: skip
        if options["verbosity"] >= 1:
            count = len(silences.query(options["matchers"]))
            self.stdout.write(f"it matches {count} firing alert(s) now")

    def do_list(self, options: dict) -> None:
        now = timezone.now()
        rows = [silences.as_dict(s, now) for s in silences.listed(include_ended=options["all"])]
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        if not rows:
            self.stdout.write("no silences" + ("" if options["all"] else " (--all shows ended)"))
            return
        table = [
            [str(r["id"]), r["state"], one_line(r["matchers"], 50), stamp(r["starts_at"]),
             stamp(r["ends_at"]),
             f"{r['schedule']} {r['time_zone']} {r['duration_s'] // 60}m" if r["schedule"] else "-",
             r["created_by"] or "-", one_line(r["comment"], 40)]
            for r in rows
        ]  # fmt: skip
        widths = [max(len(line[i]) for line in [COLUMNS, *table]) for i in range(len(COLUMNS))]
        styles = {"active": self.style.SUCCESS, "expired": self.style.WARNING}
        self.stdout.write("  ".join(h.ljust(w) for h, w in zip(COLUMNS, widths, strict=True)))
        for line in table:
            cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=True)]
            cells[1] = styles.get(line[1], str)(cells[1])
            self.stdout.write("  ".join(cells).rstrip())

    def do_expire(self, options: dict) -> None:
        raw = options["id"].strip().lstrip("#")
        if not raw.isdigit() or len(raw) > 18:
            raise CommandError(f"silence id must be a number, got {options['id']!r}")
        silence = silences.expire(int(raw), by=options["by"].strip() or who())
        self.stdout.write(self.style.SUCCESS(f"silence #{silence.pk} expired"))

    def do_query(self, options: dict) -> None:
        alerts = silences.query(options["matchers"])
        if options["json"]:
            fields = ("id", "name", "host", "source", "severity", "incident_id")
            rows = [{name: getattr(a, name) for name in fields} for a in alerts]
            self.stdout.write(json.dumps(rows, indent=2))
            return
        if not alerts:
            self.stdout.write("no firing alert matches")
            return
        for alert in alerts:
            where = f" on {alert.host}" if alert.host else ""
            incident = f"incident #{alert.incident_id}" if alert.incident_id else "no incident"
            self.stdout.write(f"#{alert.pk} {alert.name}{where} [{alert.severity}, {alert.source}]"
                              f"  {incident}")  # fmt: skip
        self.stdout.write(f"{len(alerts)} firing alert(s) would be silenced")
