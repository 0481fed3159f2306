"""What the check commands share: --option parsing, the status table and exit codes."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from .checks import EXIT_CODES, worst_status
from .checks import options as checks_options


class CheckCommand(BaseCommand):
    """A command with plugin exit codes, where argparse's usage-error code 2 would read as
    critical: usage errors exit 1, like every other bad input (CommandError)."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        argparse_exit = parser.exit

        def exit(status: int = 0, message: str | None = None):
            argparse_exit(1 if status == 2 else status, message)

        parser.exit = exit  # type: ignore[method-assign]
        return parser


def parse_options(raw: list[str], *, check: str | None = None) -> dict[str, dict[str, str]]:
    """['disk.paths=/,/var'] -> {'disk': {'paths': '/,/var'}}; with `check`, 'key=value' form."""
    try:
        return checks_options.parse_options(raw, check=check)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def exit_code(statuses: list[str], fail_on: str = "warning") -> int:
    worst = worst_status(statuses)
    if fail_on == "critical" and worst == "warning":
        return 0
    return EXIT_CODES[worst]


def as_json(report: dict[str, Any]) -> str:
    results = [{"check": name, **result} for name, result in report["checks"].items()]
    return json.dumps({"results": results, "summary": report["summary"]}, indent=2)


def print_report(command: BaseCommand, report: dict[str, Any], verbosity: int) -> None:
    if verbosity < 1:
        return
    styles = {
        "ok": command.style.SUCCESS,
        "warning": command.style.WARNING,
        "critical": command.style.ERROR,
        "unknown": command.style.NOTICE,
    }
    width = max(len(name) for name in report["checks"])
    for name, result in report["checks"].items():
        status = styles[result["status"]](result["status"].upper().ljust(8))
        command.stdout.write(f"{name.ljust(width)}  {status}  {result['message']}")
        if verbosity > 1:
            metrics = json.dumps(result["metrics"], sort_keys=True)
            command.stdout.write(f"{'':{width}}  {'':8}  {result['duration_ms']:.1f} ms {metrics}")
    summary = ", ".join(f"{count} {status}" for status, count in report["summary"].items())
    command.stdout.write(f"{summary} on {report['host']['hostname']}")
