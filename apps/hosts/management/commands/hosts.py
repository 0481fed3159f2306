"""manage.py hosts [list|show NAME|forget NAME]: the fleet as the hub knows it."""

import json
from argparse import SUPPRESS
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.common.severity import rank
from apps.hosts.models import Host
from apps.hosts.services import find
from apps.hosts.summaries import host_detail, host_summary, with_open_incidents

NONE = "-"


def age_text(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds}s ago"
    if seconds < 7200:
        return f"{seconds // 60}m ago"
    if seconds < 172800:
        return f"{seconds // 3600}h ago"
    return f"{seconds // 86400}d ago"


class Command(BaseCommand):
    help = "The hosts that report to this hub: list them, show one's latest snapshot, forget one."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", metavar="ACTION")
        listing = sub.add_parser("list", help="Name, last seen, source, worst status, incidents.")
        # SUPPRESS: `hosts --json list` keeps the --json given before the action.
        listing.add_argument(
            "--json", action="store_true", default=SUPPRESS, help="One JSON document."
        )
        show = sub.add_parser("show", help="The latest snapshot of a host, per check.")
        show.add_argument("name", help="A host name or alias.")
        show.add_argument(
            "--json", action="store_true", default=SUPPRESS, help="One JSON document."
        )
        forget = sub.add_parser(
            "forget", help="Remove a decommissioned host (and its history) so it does not page."
        )
        forget.add_argument("name", help="A host name or alias.")
        parser.add_argument("--json", action="store_true", help="One JSON document (list).")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options.get("action") or "list"
        getattr(self, f"do_{action}")(options)

    def do_list(self, options: dict) -> None:
        hosts = with_open_incidents(list(Host.objects.all()))
        rows = sorted(  # worst first: silent hosts, then by their worst check, then by name
            (host_summary(host) for host in hosts),
            key=lambda row: (not row["silent_since"], -rank(row["worst_status"]), row["name"]),
        )
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        if not rows:
            self.stdout.write(
                "No hosts have reported yet. Start an agent on a server (see docs/agent.md)."
            )
            return
        header = ["NAME", "LAST SEEN", "SOURCE", "STATUS", "OPEN INCIDENTS"]
        table = [
            [
                row["name"],
                age_text(row["last_seen_age_s"]) + (" (silent)" if row["silent_since"] else ""),
                row["last_source"],
                "silent" if row["silent_since"] else row["worst_status"],
                str(row["open_incidents"]),
            ]
            for row in rows
        ]
        widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header))]
        self.stdout.write(self.style.MIGRATE_HEADING(self.pad(header, widths)))
        for row in table:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
            cells[3] = self.status_style("critical" if row[3] == "silent" else row[3])(cells[3])
            if "(silent)" in row[1]:
                cells[1] = self.style.ERROR(cells[1])
            self.stdout.write("  ".join(cells).rstrip())

    def do_show(self, options: dict) -> None:
        host = self.host(options["name"])
        detail = host_detail(with_open_incidents([host])[0])
        if options["json"]:
            self.stdout.write(json.dumps(detail, indent=2))
            return
        snapshot = detail["snapshot"] or {}
        self.stdout.write(self.style.MIGRATE_HEADING(f"Host: {host.name}"))
        info = snapshot.get("host") or {}
        facts = [
            ("Aliases", ", ".join(host.aliases) or NONE),
            ("Last seen", f"{detail['last_seen']} ({age_text(detail['last_seen_age_s'])})"),
            ("Source", host.last_source),
            ("Snapshot", detail["snapshot_at"] or NONE),
            ("OS", str(info.get("os") or NONE)),
            ("Open incidents", str(detail["open_incidents"])),
        ]
        if host.silent_since:
            facts.append(("Silent since", host.silent_since.isoformat()))
        width = max(len(label) for label, _ in facts)
        for label, value in facts:
            self.stdout.write(f"  {label.ljust(width)}  {value}")
        checks = snapshot.get("checks") or {}
        if not checks:
            self.stdout.write("  No checks in the latest snapshot.")
            return
        self.stdout.write(self.style.MIGRATE_HEADING("Checks:"))
        name_width = max(len(name) for name in checks)
        for name, result in checks.items():
            status = result.get("status", "unknown")
            label = self.status_style(status)(status.upper().ljust(8))
            self.stdout.write(f"  {name.ljust(name_width)}  {label}  {result.get('message', '')}")

    def do_forget(self, options: dict) -> None:
        from apps.hosts.services import forget, silent_alert
        from apps.orchestration.triggers import ingest_and_start

        host = self.host(options["name"])
        if host.silent_since is not None:  # its "stopped reporting" incident resolves
            ingest_and_start(silent_alert(host, firing=False), "agent", "", start_runs=False)
        forget(host.name)
        self.stdout.write(self.style.SUCCESS(f"Forgot host {host.name} and its snapshots."))

    def host(self, name: str) -> Host:
        host = find(name)
        if host is None:
            raise CommandError(f"Unknown host: {name!r} (see: manage.py hosts list)")
        return host

    @staticmethod
    def pad(cells: list[str], widths: list[int]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    def status_style(self, status: str) -> Any:
        return {
            "ok": self.style.SUCCESS,
            "warning": self.style.WARNING,
            "critical": self.style.ERROR,
        }.get(status, self.style.NOTICE)
