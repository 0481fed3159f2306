"""manage.py run_worker: execute PENDING runs on a machine without a broker, most urgent first."""

import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.common.gcfreeze import freeze_loaded_objects
from apps.orchestration.local_runner import LocalRunner, pending_count
from apps.orchestration.recovery import start_recovery_loop


class Command(BaseCommand):
    help = (
        "Execute the pipeline runs that webhooks, agents and the API leave PENDING "
        "(PIPELINE_RUNNER=worker, the default without CELERY_BROKER_URL): critical incidents "
        "first, then by age. Start it next to the web server; several may run at once, each "
        "run executes once. Unless --once, it also sweeps every PIPELINE_SWEEP_EVERY_S (silent "
        "hosts, ended silences, grouped and repeated pages, lost runs), so a single machine "
        "needs no cron. SIGTERM or Ctrl-C lets the runs in progress finish."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--threads",
            type=int,
            default=4,
            help="Runs executed at once by this process (default 4; runs mostly wait on HTTP).",
        )
        parser.add_argument(
            "--once",
            action="store_true",
            help="Exit when no PENDING run is left instead of waiting for more.",
        )

    def handle(self, *args, **options) -> None:
        threads = options["threads"]
        if not 1 <= threads <= 64:
            raise CommandError(f"--threads must be between 1 and 64, got {threads}")
        verbosity = options["verbosity"]
        runner = LocalRunner(threads, once=options["once"], on_run=self._reporter(verbosity))
        if settings.PIPELINE_RUNNER != "worker":
            self.stdout.write(
                self.style.WARNING(
                    f"PIPELINE_RUNNER is {settings.PIPELINE_RUNNER}: new runs are not left for "
                    "this worker (it still takes any PENDING run it finds)."
                )
            )
        if verbosity > 0:
            self.stdout.write(
                f"run_worker: {threads} thread(s), {pending_count()} run(s) pending, "
                f"looking every {settings.PIPELINE_WORKER_POLL_S:g} s when idle"
            )
        if settings.PIPELINE_WORKER_RECOVERY and not options["once"]:
            start_recovery_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: runner.stop())
        freeze_loaded_objects()
        stats = runner.run()
        if verbosity > 0:
            style = self.style.SUCCESS if not stats.failed else self.style.WARNING
            self.stdout.write(
                style(f"run_worker stopped: {stats.completed} completed, {stats.failed} failed")
            )

    def _reporter(self, verbosity: int):
        if verbosity < 2:
            return None

        def report(run_id: int, status: str, worker: str) -> None:
            style = self.style.SUCCESS if status == "COMPLETED" else self.style.ERROR
            self.stdout.write(style(f"run #{run_id:<8} {status:<10} {worker}"))

        return report
