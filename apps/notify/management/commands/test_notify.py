"""Send a test message to a channel (by name) or a driver (inline options or env defaults)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.common import jsonio
from apps.notify.drivers import DRIVERS
from apps.notify.models import NotificationChannel
from apps.notify.services import NotifyConfigError, send_test, validate_notify_config


def parse_option(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise CommandError(f"--option takes key=value, got {text!r}")
    try:
        value = jsonio.loads(raw)  # lists, numbers and objects: to=["a@b.c"], priority=5
    except jsonio.JsonInputError:
        value = raw
    return key.strip(), value


class Command(BaseCommand):
    help = "Send a test notification to a channel or driver and report the outcome."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "target", help=f"A channel name or a driver ({', '.join(sorted(DRIVERS))})."
        )
        parser.add_argument(
            "--option",
            "-o",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="Inline driver setting for a driver target, e.g. webhook_url=https://... "
            "(JSON values allowed: to='[\"ops@example.com\"]'). Repeatable.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        config = self.build_config(options["target"], options["option"])
        problems = validate_notify_config(config)
        if problems:
            raise CommandError("invalid notify config: " + "; ".join(problems))
        try:
            result = send_test(config)
        except NotifyConfigError as exc:
            raise CommandError(str(exc)) from exc
        self.print_result(result)
        if result["channels_failed"] or not result["channels_succeeded"]:
            raise CommandError(
                f"test notification failed for {result['channels_failed']} of "
                f"{result['channels_attempted']} channel(s)"
            )

    def build_config(self, target: str, raw_options: list[str]) -> dict[str, Any]:
        options = dict(parse_option(item) for item in raw_options)
        if isinstance(options.get("to"), str):
            options["to"] = [part.strip() for part in options["to"].split(",") if part.strip()]
        if NotificationChannel.objects.filter(name=target).exists():
            if options:
                raise CommandError("--option applies to a driver target, not to a named channel")
            return {"channel": target}
        if target in DRIVERS:
            return {"driver": target, **options}
        channels = ", ".join(NotificationChannel.objects.values_list("name", flat=True)) or "none"
        raise CommandError(
            f"no channel or driver named {target!r} (drivers: {', '.join(sorted(DRIVERS))}; "
            f"channels: {channels})"
        )

    def print_result(self, result: dict[str, Any]) -> None:
        styles = {"succeeded": self.style.SUCCESS, "failed": self.style.ERROR}
        for item in result["deliveries"]:
            style = styles.get(item["status"], self.style.WARNING)
            code = item["response_code"] if item["response_code"] is not None else "-"
            line = (
                f"{item['channel']:<16} {item['driver']:<10} {item['destination']:<40} "
                f"{style(item['status']):<10} attempts={item['attempts']} code={code}"
            )
            self.stdout.write(line)
            if item["error"]:
                self.stdout.write(f"  {style(item['error'])}")
