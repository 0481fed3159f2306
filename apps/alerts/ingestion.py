"""Store prepared alerts: deduplicate, group into incidents, record transitions.

One call works on the whole payload with a fixed number of queries: every existing alert of the
payload is read in one query, every active incident it may join in another, and all writes are
bulk operations (apps.alerts.changes, with the raw SQL of apps.alerts.sql). A re-sent identical
alert (same source, fingerprint and content hash) writes nothing at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from apps.alerts.changes import Changes
from apps.alerts.models import ACTIVE_STATUSES, Alert, Incident, incident_title
from apps.alerts.normalise import Incoming
from apps.alerts.sql import LOOKUP_CHUNK, active_incident_ids, new_row, stored_fingerprints
from apps.common import metrics
from apps.common.severity import rank, worst

logger = logging.getLogger(__name__)

# When one payload changes an incident in several ways, the strongest reason is reported.
CHANGE_ORDER = ("new", "reopened", "resolved", "severity_up")
# What an Alert row takes from an Incoming alert.
COPIED_FIELDS = (
    "fingerprint", "fingerprint_fields", "group_key", "name", "status", "severity", "host",
    "description", "labels", "annotations", "started_at", "ended_at", "content_hash", "url",
)  # fmt: skip


@dataclass
class IngestResult:
    source: str
    counts: dict[str, int] = field(
        default_factory=lambda: {"created": 0, "updated": 0, "resolved": 0, "unchanged": 0}
    )
    incidents: list[Incident] = field(default_factory=list)
    changed: list[tuple[Incident, str]] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    # incident id -> the alert of this payload that changed it (routing looks at its labels)
    triggers: dict[int, Alert] = field(default_factory=dict)

    @property
    def incident(self) -> Incident | None:
        return self.incidents[0] if self.incidents else None


def store(stored_source: str, items: list[Incoming], *, trace_id: str = "") -> IngestResult:
    """Write prepared alerts. Callers that hold a transaction call prepare() before it, so
    parsing does not run while SQLite's write lock is held."""
    # Each attempt is its own transaction (or savepoint, inside a caller's transaction): a
    # failed first attempt leaves nothing behind either way, and no outer block is needed.
    try:
        with transaction.atomic():
            result = Ingestion(stored_source, items, trace_id).run()
    except IntegrityError:
        # A concurrent request stored one of these alerts, or opened the incident of one
        # of these group keys, between our read and our write. Read again and redo once.
        logger.info("ingest conflict on %s alerts, retrying once", stored_source)
        with transaction.atomic():
            result = Ingestion(stored_source, items, trace_id).run()
    metrics.record_alerts(stored_source, len(items))
    return result


def store_in_transaction(
    stored_source: str, items: list[Incoming], *, trace_id: str = ""
) -> IngestResult:
    """store() without its savepoint and retry: for a caller whose transaction retries as a
    whole, through store(), when this raises IntegrityError (its transaction is then broken).
    The caller records the alerts' metric once its transaction commits (record_stored)."""
    return Ingestion(stored_source, items, trace_id).run()


def record_stored(stored_source: str, items: list[Incoming]) -> None:
    metrics.record_alerts(stored_source, len(items))


class Ingestion(Changes):
    """One pass over a payload's alerts inside a transaction: what happens to each alert and
    incident. The rows and events it decides on are kept and written by Changes."""

    def __init__(self, source: str, items: list[Incoming], trace_id: str) -> None:
        super().__init__(trace_id)
        self.source = source
        self.items = items
        self.result = IngestResult(source=source)
        self.active: dict[str, Incident] = {}  # group key -> its open or acknowledged incident
        self.reasons: dict[int, str] = {}  # id(incident) -> why it is in result.changed

    def run(self) -> IngestResult:
        existing = self.load_existing()
        planned = [(item, existing.get(item.fingerprint)) for item in self.items]
        self.load_incidents(planned)
        for item, alert in planned:
            self.apply(item, alert)
        self.save_alerts()
        self.settle_incidents()
        self.save_incidents_and_events()
        self.collect_incidents()
        return self.result

    # reads

    def load_existing(self) -> dict[str, Alert]:
        """Lock and load the stored alerts of the payload.

        A cheap probe first: alerts seen for the first time (the common case of a busy
        webhook) then cost no ORM query and no model objects.
        """
        stored = stored_fingerprints(self.source, [item.fingerprint for item in self.items])
        fingerprints = [item.fingerprint for item in self.items if item.fingerprint in stored]
        found: dict[str, Alert] = {}
        for start in range(0, len(fingerprints), LOOKUP_CHUNK):
            chunk = fingerprints[start : start + LOOKUP_CHUNK]
            rows = (
                Alert.objects.select_for_update(of=("self",))
                .select_related("incident")
                .filter(source=self.source, fingerprint__in=chunk)
            )
            found.update({alert.fingerprint: alert for alert in rows})
        return found

    def load_incidents(self, planned: list[tuple[Incoming, Alert | None]]) -> None:
        """Lock and load the incidents that changing alerts are in or may join.

        Every alert of the payload then points at the one Python object of its incident.
        """
        changing = [
            (item, alert)
            for item, alert in planned
            if alert is None or alert.content_hash != item.content_hash or item.action
        ]
        if not changing:  # an identical re-send: the joined incidents are all it needs
            return
        keys = {item.group_key for item, _ in changing}
        own = {alert.incident_id for _, alert in changing if alert and alert.incident_id}
        wanted = own.union(active_incident_ids(keys))
        if not wanted:  # new alerts of new groups
            return
        # Locked by primary key (the probe found them by group key); an incident opened for one
        # of these keys since the probe makes the write fail on the one-active-incident index,
        # and store() reads again.
        by_pk: dict[int, Incident] = {}
        ordered = sorted(wanted)
        for start in range(0, len(ordered), LOOKUP_CHUNK):
            rows = Incident.objects.select_for_update().filter(
                pk__in=ordered[start : start + LOOKUP_CHUNK]
            )
            by_pk.update({incident.pk: incident for incident in rows})
        self.active = {
            incident.group_key: incident
            for incident in by_pk.values()
            if incident.status in ACTIVE_STATUSES and incident.group_key
        }
        for _, alert in planned:
            if alert is not None and alert.incident_id in by_pk:
                alert.incident = by_pk[alert.incident_id]

    # per alert

    def apply(self, item: Incoming, alert: Alert | None) -> None:
        if alert is not None and (alert.content_hash == item.content_hash or item.action):
            self.apply_action(item, alert)
            return
        if alert is None and item.action not in ("", "acknowledge"):
            # An escalation or note about an alert never stored: its fields are placeholders.
            self.result.counts["unchanged"] += 1
            return
        if alert is None:
            alert = self.create_alert(item)
        else:
            self.update_alert(alert, item)
        self.result.alerts.append(alert)
        if alert.status == Alert.Status.FIRING:
            self.place_firing(alert)
        elif alert.incident is None:
            self.group(alert)
        if alert.incident is not None:
            self.touch(alert.incident, alert)
            if item.action == "acknowledge":
                self.acknowledge(alert, alert.incident)

    def apply_action(self, item: Incoming, alert: Alert) -> None:
        """An identical re-send, or a vendor action about a stored alert (not new content)."""
        self.result.alerts.append(alert)
        incident = alert.incident
        if item.action != "acknowledge" or incident is None or incident.status != "open":
            self.result.counts["unchanged"] += 1
            return
        self.result.counts["updated"] += 1
        self.alert_event(alert, "acknowledged", f"{self.source} acknowledged it")
        self.acknowledge(alert, incident)
        self.touch(incident, alert)

    def acknowledge(self, alert: Alert, incident: Incident) -> None:
        if incident.status != Incident.Status.OPEN:
            return
        self.incident_event(
            incident, "open", "acknowledged", f"{self.source} acknowledged {alert.name!r}"
        )
        incident.status = Incident.Status.ACKNOWLEDGED
        incident.acknowledged_at = self.now

    def create_alert(self, item: Incoming) -> Alert:
        alert = new_row(
            Alert, source=self.source, created_at=self.now, updated_at=self.now,
            incident_id=None, **{name: getattr(item, name) for name in COPIED_FIELDS},
        )  # fmt: skip
        self.new_alerts.append(alert)
        self.result.counts["created"] += 1
        self.alert_event(alert, "created", f"first seen {item.status}, severity {item.severity}")
        return alert

    def update_alert(self, alert: Alert, item: Incoming) -> None:
        before = {name: getattr(alert, name) for name in ("status", "severity", "name", "host")}
        started = alert.started_at
        self.copy_fields(alert, item)
        refired = before["status"] == "resolved" and item.status == "firing"
        if alert.started_at is None and not refired:
            alert.started_at = started  # a notice that does not repeat the start time
        self.changed_alerts.append(alert)
        if before["status"] == "firing" and alert.status == "resolved":
            self.result.counts["resolved"] += 1
            self.alert_event(alert, "resolved", "the source reported it resolved")
            return
        self.result.counts["updated"] += 1
        if before["status"] == "resolved" and alert.status == "firing":
            self.alert_event(alert, "refired", "fired again after it had resolved")
            return
        changes = [
            f"{name} {value} -> {getattr(alert, name)}"
            for name, value in before.items()
            if value != getattr(alert, name)
        ]
        self.alert_event(alert, "updated", "; ".join(changes) or "details changed")

    def copy_fields(self, alert: Alert, item: Incoming) -> None:
        for name in COPIED_FIELDS:
            setattr(alert, name, getattr(item, name))
        alert.updated_at = self.now

    def place_firing(self, alert: Alert) -> None:
        incident = alert.incident
        if incident is not None and incident.status in ACTIVE_STATUSES:
            return
        if incident is None or incident.group_key != alert.group_key:
            # Never grouped, or it fires now under another key (its host or name changed): its
            # old incident is about something else, and another may hold that key by now.
            self.group(alert)
            return
        holder = self.active.get(incident.group_key)  # its incident resolved: reopen that one
        if holder is None:
            self.reopen(incident, alert)
            return
        why = (
            f"its own incident #{incident.pk} is resolved and this one is {holder.status} "
            f"with group key {holder.group_key!r}"
        )
        self.join(alert, holder, why)

    def group(self, alert: Alert) -> None:
        """Join the active incident of the alert's group key, or open one if it fires."""
        holder = self.active.get(alert.group_key)
        if holder is not None:
            why = f"it was {holder.status} with the same group key {alert.group_key!r}"
            self.join(alert, holder, why)
        elif alert.status == Alert.Status.FIRING:
            self.open_incident(alert)
        else:
            reason = (
                "not grouped: it arrived resolved and no open or acknowledged incident had "
                f"group key {alert.group_key!r}"
            )
            self.alert_event(alert, "grouped", reason)

    def join(self, alert: Alert, incident: Incident, why: str) -> None:
        alert.incident = incident
        if incident.pk is None and alert.status == Alert.Status.FIRING:  # opened by this payload
            incident.severity = worst([incident.severity, alert.severity])
        self.alert_event(alert, "grouped", f"joined incident #{{incident}}: {why}", incident)

    def open_incident(self, alert: Alert) -> None:
        incident = new_row(
            Incident, title=incident_title(alert.name, alert.host), status=Incident.Status.OPEN,
            severity=alert.severity, group_key=alert.group_key, source=self.source, host=alert.host,
            created_at=self.now, updated_at=self.now,
        )  # fmt: skip
        self.new_incidents.append(incident)
        self.active[alert.group_key] = incident
        alert.incident = incident
        self.mark(incident, "new")
        self.alert_event(
            alert, "grouped",
            f"opened incident #{{incident}}: no open or acknowledged incident had group key "
            f"{alert.group_key!r}",
            incident,
        )  # fmt: skip
        self.incident_event(incident, "", "open", f"opened by {self.source} alert {alert.name!r}")

    def reopen(self, incident: Incident, alert: Alert) -> None:
        self.incident_event(incident, incident.status, "open", f"alert {alert.name!r} fired again")
        incident.status = Incident.Status.OPEN
        incident.resolved_at = None
        incident.acknowledged_at = None
        self.active[incident.group_key] = incident
        self.mark(incident, "reopened")
        self.alert_event(alert, "grouped", f"reopened its incident #{incident.pk}")

    # incidents

    def touch(self, incident: Incident, alert: Alert) -> None:
        self.dirty[id(incident)] = incident
        trigger = self.result.triggers.get(id(incident))
        if trigger is None or rank(alert.severity) > rank(trigger.severity):
            self.result.triggers[id(incident)] = alert

    def mark(self, incident: Incident, reason: str) -> None:
        current = self.reasons.get(id(incident))
        if current is None or CHANGE_ORDER.index(reason) < CHANGE_ORDER.index(current):
            self.reasons[id(incident)] = reason

    def settle_incidents(self) -> None:
        """Resolve and re-rate the stored incidents this payload touched."""
        firing = self.firing_severities()
        new = {id(incident) for incident in self.new_incidents}
        for incident in self.dirty.values():
            if id(incident) in new:  # rated while its alerts were placed
                continue
            incident.updated_at = self.now
            severities = firing.get(id(incident), set())
            if not severities:
                self.resolve_if_active(incident)
                continue
            self.rate(incident, worst(list(severities)))

    def firing_severities(self) -> dict[int, set[str]]:
        """Severities of the firing alerts of each touched incident, after this payload."""
        opened = {id(incident) for incident in self.new_incidents}
        by_pk = {inc.pk: inc for inc in self.dirty.values() if id(inc) not in opened}
        found: dict[int, set[str]] = {}
        if by_pk:
            rows = (
                Alert.objects.filter(incident_id__in=list(by_pk), status="firing")
                .values_list("incident_id", "severity")
                .order_by()
                .distinct()
            )
            for incident_id, severity in rows:
                found.setdefault(id(by_pk[incident_id]), set()).add(severity)
        return found

    def resolve_if_active(self, incident: Incident) -> None:
        if incident.status == Incident.Status.RESOLVED:
            return
        self.incident_event(incident, incident.status, "resolved", "all its alerts resolved")
        incident.status = Incident.Status.RESOLVED
        incident.resolved_at = self.now
        self.mark(incident, "resolved")

    def rate(self, incident: Incident, severity: str) -> None:
        if severity == incident.severity:
            return
        if rank(severity) > rank(incident.severity):
            self.mark(incident, "severity_up")
        self.incident_event(
            incident, incident.status, incident.status,
            f"severity {incident.severity} -> {severity}",
        )  # fmt: skip
        incident.severity = severity

    def collect_incidents(self) -> None:
        seen: dict[int, Incident] = {}
        for alert in self.result.alerts:
            if alert.incident is not None:
                seen.setdefault(alert.incident.pk, alert.incident)
        self.result.incidents = list(seen.values())
        self.result.changed = [
            (incident, self.reasons[id(incident)])
            for incident in self.result.incidents
            if id(incident) in self.reasons
        ]
        self.result.triggers = {
            incident.pk: self.result.triggers[id(incident)]
            for incident in self.result.incidents
            if id(incident) in self.result.triggers
        }
