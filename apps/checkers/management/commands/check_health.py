import sys

from django.core.management.base import CommandError

from apps.checkers.cli import CheckCommand, as_json, exit_code, parse_options, print_report
from apps.checkers.services import CheckerError, run_checks


class Command(CheckCommand):
    help = (
        "Run host checks and exit like a monitoring plugin: 0 ok, 1 warning, 2 critical, "
        "3 unknown (the worst result wins; critical over unknown over warning)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "names", nargs="*", metavar="check", help="Checks to run (default: all not skipped)."
        )
        parser.add_argument(
            "--option",
            action="append",
            default=[],
            metavar="CHECK.KEY=VALUE",
            help="Set a check option, e.g. disk.paths=/,/var or cpu.warning=none. Repeatable.",
        )
        parser.add_argument("--json", action="store_true", help="Print results as JSON.")
        parser.add_argument(
            "--fail-on",
            choices=["warning", "critical"],
            default="warning",
            help="Lowest status that makes a non-zero exit; 'critical' makes warnings exit 0.",
        )

    def handle(self, *args, **options):
        try:
            report = run_checks(
                include=options["names"] or None,
                options=parse_options(options["option"]),
                operator=True,
            )
        except CheckerError as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(as_json(report))
        else:
            print_report(self, report, options["verbosity"])
        code = exit_code([r["status"] for r in report["checks"].values()], options["fail_on"])
        if code:
            sys.exit(code)
