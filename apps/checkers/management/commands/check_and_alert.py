import uuid
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.checkers.cli import parse_options
from apps.checkers.services import CheckerError, run_checks, validate_context_config


def record_local_snapshot(report: dict[str, Any]) -> None:
    """This machine is a host too: `manage.py hosts` lists it with its latest checks."""
    from django.utils import timezone

    from apps.hosts.services import record_snapshot
    from apps.hosts.snapshots import Snapshot

    checks = {
        name: {
            "status": result["status"],
            "message": result["message"],
            "readings": result["metrics"],
            "duration_ms": result["duration_ms"],
        }
        for name, result in report["checks"].items()
    }
    info = {
        k: v for k, v in report["host"].items() if k in ("os", "platform", "uptime_s", "cpu_count")
    }
    snapshot = Snapshot(observed_at=timezone.now(), checks=checks, info=info)
    record_snapshot(settings.HOST_NAME, snapshot, source="local")


class Command(BaseCommand):
    help = (
        "Run the host checks and send the results through alert ingestion (source 'checks'): "
        "a non-ok check fires an alert, a recovered check resolves it, a check that never "
        "fired stores nothing. Incidents that open, reopen or resolve start pipeline runs as "
        "a webhook would (INGEST_START_RUNS), and those runs use these check results instead "
        "of measuring again; without a Celery broker they execute before the command exits."
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
        from apps.alerts.services import IngestError
        from apps.orchestration.triggers import check_alerts, ingest_and_start

        trace_id = uuid.uuid4().hex
        try:
            report = run_checks(options=check_options, trace_id=trace_id, operator=True)
        except CheckerError as exc:
            raise CommandError(str(exc)) from None
        record_local_snapshot(report)
        payload = check_alerts(settings.HOST_NAME, report["checks"])
        triggered = None
        if payload["alerts"]:
            try:
                triggered = ingest_and_start(payload, "checks", trace_id, dispatch_runs=False)
            except IngestError as exc:
                raise CommandError(f"alert ingestion failed: {exc}") from None
            for error in triggered.run_errors:
                self.stderr.write(self.style.ERROR(f"no run started for {error}"))

        if options["verbosity"] > 0:
            self.print_summary(report, triggered, options["verbosity"])
        if triggered is not None:
            self.execute_runs(triggered.run_ids, options["verbosity"])

    def print_summary(self, report: dict[str, Any], triggered: Any, verbosity: int) -> None:
        firing = sum(1 for result in report["checks"].values() if result["status"] != "ok")
        if triggered is None:
            counts = "none stored"
        else:
            counts = ", ".join(f"{count} {kind}" for kind, count in triggered.result.counts.items())
        style = self.style.WARNING if firing else self.style.SUCCESS
        self.stdout.write(
            style(f"{len(report['checks'])} checks, {firing} firing; alerts: {counts}")
        )
        if verbosity > 1 and triggered is not None:
            for incident, reason in triggered.result.changed:
                self.stdout.write(f"  incident #{incident.pk} {reason}: {incident.title}")

    def execute_runs(self, run_ids: list[int], verbosity: int) -> None:
        from apps.orchestration.services import dispatch, execute_run

        if settings.PIPELINE_RUNNER == "celery":
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
