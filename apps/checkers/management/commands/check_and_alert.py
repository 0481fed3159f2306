import uuid
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.checkers.cli import parse_options
from apps.checkers.services import CheckerError, run_checks, validate_context_config

# unknown means the check itself is broken: worth a look, not a page.
SEVERITY = {"critical": "critical", "warning": "warning", "unknown": "warning", "ok": "info"}


def alerts_payload(report: dict[str, Any]) -> dict[str, Any]:
    """Check results in the generic alert format: non-ok fires, ok resolves.

    An ok result's description is fixed text, so a re-sent recovery is identical and ingestion
    writes nothing for it; only a firing alert carries the changing measured values.
    """
    host = report["host"]["hostname"]
    alerts = []
    for name, result in report["checks"].items():
        ok = result["status"] == "ok"
        alerts.append(
            {
                "name": f"{name} check",
                "status": "resolved" if ok else "firing",
                "severity": SEVERITY[result["status"]],
                "host": host,
                "description": f"{name} check is ok" if ok else result["message"],
                "labels": {"check": name, "check_status": result["status"]},
                "fingerprint": f"check:{name}:{host}",
            }
        )
    return {"alerts": alerts}


class Command(BaseCommand):
    help = (
        "Run the host checks and send the results through alert ingestion (source 'checks'): "
        "a non-ok check fires an alert, an ok check resolves it. Incidents that open, reopen "
        "or resolve start pipeline runs as a webhook would (INGEST_START_RUNS); without a "
        "Celery broker the runs execute before the command exits."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--option",
            action="append",
            default=[],
            metavar="CHECK.KEY=VALUE",
            help="Set a check option, e.g. disk.paths=/,/var. Repeatable.",
        )

    def handle(self, *args, **options):
        check_options = parse_options(options["option"])
        problems = validate_context_config({"options": check_options})
        if problems:
            raise CommandError("; ".join(problems))
        from apps.alerts.services import IngestError, ingest
        from apps.alerts.views import start_runs

        trace_id = uuid.uuid4().hex
        try:
            report = run_checks(options=check_options, trace_id=trace_id)
        except CheckerError as exc:
            raise CommandError(str(exc)) from None
        payload = alerts_payload(report)
        run_ids: list[int] = []
        try:
            with transaction.atomic():
                result = ingest(payload, source="checks", trace_id=trace_id)
                if settings.INGEST_START_RUNS and result.changed:
                    run_ids, run_errors = start_runs(result, payload, trace_id)
                    for error in run_errors:
                        self.stderr.write(self.style.ERROR(f"no run started for {error}"))
        except IngestError as exc:
            raise CommandError(f"alert ingestion failed: {exc}") from None

        if options["verbosity"] > 0:
            self.print_summary(payload, result, options["verbosity"])
        self.execute_runs(run_ids, options["verbosity"])

    def print_summary(self, payload: dict[str, Any], result: Any, verbosity: int) -> None:
        firing = sum(1 for alert in payload["alerts"] if alert["status"] == "firing")
        counts = ", ".join(f"{count} {kind}" for kind, count in result.counts.items())
        style = self.style.WARNING if firing else self.style.SUCCESS
        self.stdout.write(
            style(f"{len(payload['alerts'])} checks, {firing} firing; alerts: {counts}")
        )
        if verbosity > 1:
            for incident, reason in result.changed:
                self.stdout.write(f"  incident #{incident.pk} {reason}: {incident.title}")

    def execute_runs(self, run_ids: list[int], verbosity: int) -> None:
        from apps.orchestration.services import dispatch, execute_run

        if settings.CELERY_BROKER_URL:
            dispatch(run_ids)
            if run_ids and verbosity > 0:
                self.stdout.write(f"queued runs {', '.join(map(str, run_ids))}")
            return
        # No broker: a background thread would die with this process, so run them here.
        failed = []
        for run_id in run_ids:
            status = execute_run(run_id, worker="check_and_alert")["status"]
            if status != "COMPLETED":
                failed.append(run_id)
            if verbosity > 0:
                style = self.style.SUCCESS if status == "COMPLETED" else self.style.ERROR
                self.stdout.write(style(f"run #{run_id} {status}"))
        if failed:
            # The alerts are stored either way; the exit status tells cron a run went wrong.
            raise CommandError(
                f"{len(failed)} of {len(run_ids)} pipeline run(s) failed: "
                + ", ".join(f"#{run_id}" for run_id in failed)
                + " (see: manage.py run_pipeline --resume ID)"
            )
