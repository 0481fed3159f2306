"""manage.py analyze_incident ID [--provider P] [--json]"""

import json
import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from apps.intelligence.services import AnalysisError, analyze, validate_intelligence_config

LABEL_WIDTH = 12


class Command(BaseCommand):
    help = "Analyse a stored incident and print the result (writes one AnalysisRun)."

    def add_arguments(self, parser):
        parser.add_argument("incident_id", help="ID of the incident to analyse.")
        parser.add_argument(
            "--provider",
            help="Provider to use instead of INTELLIGENCE_PROVIDER (local, openai, anthropic, "
            "ollama). A failing provider falls back to local.",
        )
        parser.add_argument(
            "--json", action="store_true", help="Print the analysis output dict as JSON."
        )

    def handle(self, *args, **options):
        from apps.alerts.models import Incident

        raw_id = str(options["incident_id"]).strip()
        if not re.fullmatch(r"[0-9]{1,18}", raw_id):
            raise CommandError(f"incident id must be a positive whole number, got {raw_id!r}")
        try:
            incident = Incident.objects.filter(pk=int(raw_id)).first()
        except DatabaseError as exc:
            first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise CommandError(f"cannot read incidents ({first_line}); run migrate?") from None
        if incident is None:
            raise CommandError(f"incident {raw_id} does not exist")
        config = {}
        if options["provider"] is not None:
            config["provider"] = options["provider"]
            problems = validate_intelligence_config(config)
            if problems:
                raise CommandError(problems[0])
        try:
            output = analyze(incident=incident, config=config)
        except AnalysisError as exc:
            raise CommandError(f"analysis failed: {exc}") from None
        if options["json"]:
            self.stdout.write(json.dumps(output, indent=2, ensure_ascii=False))
        else:
            self._print(incident, output, options["verbosity"])

    def _line(self, label: str, value: str) -> None:
        self.stdout.write(f"{label:<{LABEL_WIDTH}}{value}")

    def _print(self, incident: Any, output: dict[str, Any], verbosity: int) -> None:
        style = {
            "critical": self.style.ERROR,
            "warning": self.style.WARNING,
            "info": self.style.NOTICE,
            "ok": self.style.SUCCESS,
        }[output["severity_assessment"]]
        provider = output["provider"]
        if output["fallback_used"]:
            provider = self.style.WARNING(
                f"{provider} (fallback from {output['requested_provider']})"
            )
        self._line("Incident", f"#{incident.pk} {incident.title} [{incident.status}]")
        self._line("Provider", f"{provider}  model {output['model']}")
        if output["fallback_used"]:
            self._line("Fallback", output["fallback_reason"])
        self._line("Severity", style(output["severity_assessment"].upper()))
        self._line("Confidence", f"{output['confidence']:.2f}")
        self._line("Summary", output["summary"])
        if output["probable_cause"]:
            self._line("Cause", output["probable_cause"])
        if output["recommendations"]:
            self.stdout.write("Recommendations")
        for number, rec in enumerate(output["recommendations"], 1):
            self.stdout.write(
                f"  {number}. [{rec['priority']}] {self.style.MIGRATE_LABEL(rec['title'])}"
            )
            if rec["detail"]:
                self.stdout.write(f"     {rec['detail']}")
            for command in rec.get("commands") or []:
                self.stdout.write(f"     $ {command}")
        if verbosity >= 2 and output["evidence"]:
            self.stdout.write("Evidence")
            for line in output["evidence"]:
                self.stdout.write(f"  - {line}")
        tokens = output["tokens"]
        used = (
            ""
            if tokens["input"] is None
            else f", tokens {tokens['input']} in / {tokens['output']} out"
        )
        self._line("Took", f"{output['duration_ms']:.1f} ms{used}")
