"""manage.py create_api_key NAME [--scopes ingest,read]: prints the new key once."""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError

from apps.common.models import SCOPES, ApiKey


class Command(BaseCommand):
    help = (
        "Create an API key and print it alone on the last line of output. Only its hash is "
        "stored: the key cannot be shown again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="A unique name that says who uses the key.")
        parser.add_argument(
            "--scopes",
            default="ingest",
            help=f"Comma-separated scopes out of {', '.join(SCOPES)} (default: ingest).",
        )

    def handle(self, *args, **options) -> None:
        name = options["name"].strip()
        if not name or len(name) > 100:
            raise CommandError("NAME must be 1 to 100 characters")
        if not name.isprintable():
            raise CommandError(f"NAME must not contain control characters, got {name!r}")
        scopes = [scope.strip() for scope in options["scopes"].split(",") if scope.strip()]
        unknown = [scope for scope in scopes if scope not in SCOPES]
        if unknown or not scopes:
            raise CommandError(
                f"unknown scope(s) {', '.join(unknown) or '(none given)'}; "
                f"choose from {', '.join(SCOPES)}"
            )
        if ApiKey.objects.filter(name=name).exists():
            raise CommandError(f"an API key named {name!r} already exists; choose another name")
        try:
            key, raw = ApiKey.create_key(name, scopes)
        except IntegrityError:
            raise CommandError(f"an API key named {name!r} already exists") from None
        if options["verbosity"] >= 1:
            self.stdout.write(
                self.style.SUCCESS(f"Created API key {key.name!r} with scopes ")
                + ", ".join(key.scopes)
                + self.style.WARNING(". Store it now: it is not shown again.")
            )
        self.stdout.write(raw)
