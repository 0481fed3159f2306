"""manage.py sweep_runs: find runs whose worker died; mark them FAILED and optionally resume."""

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.hosts.services import silent_hosts
from apps.notify.repeat import notify_repeats
from apps.notify.unsilence import notify_ended_silences
from apps.orchestration.group_flush import flush_due_groups
from apps.orchestration.services import delivery_node_config, sweep_runs
from apps.orchestration.triggers import silent_hosts_alerted


class Command(BaseCommand):
    help = (
        "Mark runs stuck in RUNNING (no heartbeat for PIPELINE_STALE_AFTER_S) as FAILED; with "
        "--requeue resume them and re-dispatch PENDING runs nobody picked up. Also opens a "
        "'<host> stopped reporting' incident for each agent silent for HOST_SILENT_AFTER_S. Run "
        "it from cron or let celery beat do it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--requeue", action="store_true", help="Resume the runs marked FAILED.")
        parser.add_argument("--dry-run", action="store_true", help="Only list what would change.")

    def handle(self, *args, **options):
        # background=False: without a broker, runs execute before the command exits.
        result = sweep_runs(
            requeue=options["requeue"], dry_run=options["dry_run"], background=False
        )
        verb = "would fail" if options["dry_run"] else "failed"
        limit = settings.PIPELINE_STALE_AFTER_S
        self.stdout.write(
            f"Stuck runs (no heartbeat for {limit:g}s) {verb}: "
            f"{len(result['failed'])} {result['failed'] or ''}".rstrip()
        )
        if options["requeue"]:
            self.stdout.write(
                f"Resumed: {len(result['requeued'])}; pending re-dispatched: "
                f"{len(result['pending_redispatched'])}"
            )
        if options["dry_run"]:
            silent = [host.name for host in silent_hosts()]
            self.stdout.write(f"Silent hosts (would page): {len(silent)} {silent or ''}".rstrip())
        else:
            silent = silent_hosts_alerted(background=False)
            self.stdout.write(f"Silent hosts paged: {len(silent)} {silent or ''}".rstrip())
        if not options["dry_run"]:
            sent = notify_ended_silences(node_config_for=delivery_node_config)
            self.stdout.write(f"Incidents paged again because their silence ended: {len(sent)}")
            flushed = flush_due_groups()
            self.stdout.write(f"Grouped notifications sent: {len(flushed)}")
            repeated = notify_repeats(delivery_node_config)
            self.stdout.write(
                f"Still-firing incidents paged again (repeat_interval): {len(repeated)}"
            )
        if result["failed"] and not options["dry_run"]:
            self.stdout.write(self.style.WARNING("Runs whose worker was lost were marked FAILED."))
