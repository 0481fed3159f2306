import sys

from django.core.management.base import CommandError

from apps.checkers.checks import CHECKS
from apps.checkers.cli import CheckCommand, as_json, exit_code, parse_options, print_report
from apps.checkers.services import CheckerError, known_checks, run_checks


class Command(CheckCommand):
    help = "Run one host check; exit 0 ok, 1 warning, 2 critical, 3 unknown."

    def add_arguments(self, parser):
        parser.add_argument("name", metavar="check", help=f"One of: {', '.join(CHECKS)}.")
        parser.add_argument(
            "--option",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="Set an option of this check, e.g. warning=70 or critical=none. Repeatable.",
        )
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args, **options):
        name = options["name"]
        if name not in CHECKS:
            raise CommandError(f"unknown check '{name}' (known: {known_checks()})")
        try:
            report = run_checks(
                include=[name],
                options=parse_options(options["option"], check=name),
                operator=True,
            )
        except CheckerError as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(as_json(report))
        else:
            print_report(self, report, options["verbosity"])
        code = exit_code([report["checks"][name]["status"]])
        if code:
            sys.exit(code)
