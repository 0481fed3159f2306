"""manage.py explain_alert ID: the identity of an alert and why it is in its incident."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.alerts.grouping import GroupingError, group_fields, group_key
from apps.alerts.inhibition import QuietCheck
from apps.alerts.models import Alert
from apps.alerts.normalise import PARSE_NOTES


class Command(BaseCommand):
    help = (
        "Explain an alert: the fields its fingerprint came from, its group key, and why it "
        "joined its incident (or did not)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("alert_id", help="The id of the Alert row.")

    def handle(self, *args, **options) -> None:
        alert = self.load(options["alert_id"])
        incident = alert.incident
        rows = [
            ("alert", f"#{alert.pk} {alert.name} [{alert.status}, {alert.severity}]"),
            ("source", alert.source),
            ("host", alert.host or "-"),
            ("fingerprint", alert.fingerprint),
            ("fingerprint from", ", ".join(alert.fingerprint_fields) or "(not recorded)"),
            ("group key", alert.group_key or "-"),
            ("incident", f"#{incident.pk} {incident.title} [{incident.status}]"
             if incident else "none"),
        ]  # fmt: skip
        try:
            current = group_key(alert, alert.source, group_fields())
        except GroupingError as exc:
            raise CommandError(str(exc)) from exc
        if current != alert.group_key:
            rows.append(("group key now", f"{current} (INCIDENT_GROUP_BY changed since)"))
        notes = (alert.annotations or {}).get(PARSE_NOTES)
        if isinstance(notes, list) and notes:
            rows.append(("read with", "; ".join(str(note) for note in notes)))
        else:
            rows.append(("read with", "no fallbacks (every field where its format puts it)"))
        rows.append(("notifications", self.quiet(alert)))
        width = max(len(label) for label, _ in rows)
        for label, value in rows:
            self.stdout.write(f"{self.style.MIGRATE_LABEL(label.ljust(width))}  {value}")
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING("Why:"))
        self.stdout.write(f"  {self.why(alert)}")
        if options["verbosity"] >= 1:
            self.stdout.write(self.style.MIGRATE_HEADING("History:"))
            for event in alert.events.all():
                stamp = event.created_at.strftime("%Y-%m-%d %H:%M:%S")
                self.stdout.write(f"  {stamp}  {event.kind.ljust(12)} {event.reason}")

    def load(self, raw_id: str) -> Alert:
        try:
            alert_id = int(raw_id)
        except ValueError:
            raise CommandError(f"alert id must be a number, got {raw_id!r}") from None
        alert = Alert.objects.select_related("incident").filter(pk=alert_id).first()
        if alert is None:
            raise CommandError(f"no alert with id {alert_id}")
        return alert

    @staticmethod
    def quiet(alert: Alert) -> str:
        if alert.status != Alert.Status.FIRING:
            return f"not checked: the alert is {alert.status}"
        kind, reason = QuietCheck().alert_reason(alert)
        return reason or "sent (not silenced or inhibited now)"

    def why(self, alert: Alert) -> str:
        if alert.group_reason:
            return alert.group_reason
        if alert.incident is None:
            return "it has no incident and no grouping was recorded for it"
        return f"it was attached to incident #{alert.incident.pk} outside ingestion"
