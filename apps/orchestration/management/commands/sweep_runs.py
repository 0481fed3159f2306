"""manage.py sweep_runs: find runs that lost their worker or their message, and recover them."""

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.hosts.services import silent_hosts
from apps.notify.repeat import notify_repeats
from apps.notify.unsilence import notify_ended_silences
from apps.orchestration.group_flush import flush_due_groups
from apps.orchestration.recovery import sweep_runs
from apps.orchestration.services import delivery_node_config
from apps.orchestration.triggers import silent_hosts_alerted


def listed(ids: list[int]) -> str:
    return f"{len(ids)} {ids}" if ids else "0"


class Command(BaseCommand):
    help = (
        "Find runs stuck in RUNNING (no heartbeat for PIPELINE_STALE_AFTER_S) or PENDING that "
        "long. A run whose message is still in the broker is left to it (the broker redelivers "
        "it); one whose message is lost is marked FAILED, or with --requeue enqueued again (its "
        "next worker takes it over). Also opens a '<host> stopped reporting' incident for each "
        "agent silent for HOST_SILENT_AFTER_S. Workers do this on their own every "
        "PIPELINE_SWEEP_EVERY_S; cron or beat only add sweeps."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--requeue", action="store_true", help="Enqueue again the runs whose message is lost."
        )
        parser.add_argument("--dry-run", action="store_true", help="Only list what would change.")

    def handle(self, *args, **options):
        # background=False: without a broker, runs execute before the command exits.
        result = sweep_runs(
            requeue=options["requeue"], dry_run=options["dry_run"], background=False
        )
        verb = "would fail" if options["dry_run"] else "failed"
        limit = settings.PIPELINE_STALE_AFTER_S
        self.stdout.write(
            f"Stuck runs (no heartbeat for {limit:g}s) {verb}: {listed(result['failed'])}"
        )
        self.stdout.write(
            f"Left to their message in the broker: {listed(result['awaiting_redelivery'])}"
        )
        if result["unchecked"]:
            self.stdout.write(
                self.style.WARNING(
                    f"Not checked (the broker could not be read): {listed(result['unchecked'])}"
                )
            )
        if options["requeue"]:
            self.stdout.write(
                f"Taken over: {len(result['requeued'])}; pending re-dispatched: "
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
            unsent = [entry for entry in flushed if entry.get("delivery") is None]
            self.stdout.write(
                f"Grouped notifications sent: {len(flushed) - len(unsent)}"
                + (f" (nothing left to send in {len(unsent)})" if unsent else "")
            )
            repeated = notify_repeats(delivery_node_config)
            self.stdout.write(
                f"Still-firing incidents paged again (repeat_interval): {len(repeated)}"
            )
        if result["failed"] and not options["dry_run"]:
            self.stdout.write(
                self.style.WARNING(
                    "Runs whose worker and message were lost were marked FAILED "
                    "(run_pipeline --resume RUN_ID finishes them)."
                )
            )
