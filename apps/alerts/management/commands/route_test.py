"""manage.py route_test --file payload.json [--source grafana]: which pipeline each alert runs."""

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.alerts.inhibition import QuietCheck
from apps.alerts.models import Alert
from apps.alerts.services import IngestError, prepare
from apps.alerts.silences import alert_labels
from apps.common import jsonio
from apps.orchestration import routing


class Command(BaseCommand):
    help = (
        "Show which pipeline definition each alert of a payload would start, without running "
        "or storing anything."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--file", required=True, help="The payload: a JSON file, or - for standard input."
        )
        parser.add_argument(
            "--source",
            default=None,
            help="Vendor of the payload (alertmanager, grafana, ...); detected when omitted.",
        )

    def handle(self, *args, **options) -> None:
        if options["source"] is not None and not options["source"].strip():
            raise CommandError("--source is empty; leave it out to detect the vendor")
        payload = self.load(options["file"])
        try:
            source, items = prepare(payload, options["source"])
        except IngestError as exc:
            raise CommandError(str(exc)) from exc
        definitions = routing.routable_definitions()
        fallback = routing.default_definition()
        verbose = options["verbosity"] >= 2
        width = max(len(self.describe(item)) for item in items)
        self.stdout.write(f"source: {source}, {len(items)} alert(s), "
                          f"{len(definitions)} definition(s) with a match")  # fmt: skip
        quiet = QuietCheck()
        stored = dict(
            Alert.objects.filter(
                source=source, fingerprint__in=[item.fingerprint for item in items]
            ).values_list("fingerprint", "id")
        )
        for item in items:
            route = routing.choose(
                source, item.severity, item.labels, definitions, item.host, fallback
            )
            style = self.style.SUCCESS if route.definition else self.style.WARNING
            self.stdout.write(f"{self.describe(item).ljust(width)}  ->  {style(route.name)}")
            labels = alert_labels(SimpleNamespace(**vars(item), source=source))
            _, reason = quiet.labels_reason(labels, stored.get(item.fingerprint))
            if reason and item.status == "firing":
                self.stdout.write(self.style.WARNING(f"    notify nodes would skip: {reason}"))
            if verbose:
                for definition, why in routing.explain(
                    source, item.severity, item.labels, definitions, item.host
                ):
                    verdict = why or self.style.SUCCESS("matches")
                    self.stdout.write(f"    {definition.name} (priority {definition.priority}): "
                                      f"{verdict}")  # fmt: skip
        for definition in definitions:
            problems = routing.match_problems(definition.match)
            if problems:
                self.stderr.write(
                    self.style.ERROR(f"definition {definition.name}: never routed: ")
                    + "; ".join(problems)
                )

    @staticmethod
    def describe(item: Any) -> str:
        where = f" on {item.host}" if item.host else ""
        return f"{item.name}{where} [{item.status}, {item.severity}]"

    @staticmethod
    def load(path: str) -> Any:
        limit = jsonio.MAX_FILE_BYTES
        if not path.strip():
            raise CommandError("--file is empty (give a path, or - for standard input)")
        try:
            if path == "-":
                text = sys.stdin.read(limit + 1)
            elif Path(path).is_dir():
                raise CommandError(f"cannot read {path}: it is a directory")
            elif not Path(path).is_file():
                raise CommandError(f"no such file: {path}")
            elif Path(path).stat().st_size > limit:
                raise CommandError(f"{path} is too large (over {limit // (1024 * 1024)} MiB)")
            else:
                text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from None
        if len(text) > limit:
            raise CommandError(f"{path} is too large (over {limit // (1024 * 1024)} MiB)")
        try:
            return jsonio.loads(text)
        except jsonio.JsonInputError as exc:
            raise CommandError(f"{path} is not valid JSON: {exc}") from None
