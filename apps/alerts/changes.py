"""What one payload changes, held until it is written: new and changed rows and their events.

Ingestion (apps.alerts.ingestion) decides; this keeps the outcome and writes it at the end, in
bulk: new incidents first (new and changed alerts point at them), then the alerts, then the
incidents the payload touched and every event row.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from apps.alerts.models import Alert, Incident
from apps.alerts.sql import (
    ALERT_INSERT_COLUMNS,
    INCIDENT_INSERT_COLUMNS,
    insert_all_events,
    insert_new,
    update_rows,
)

ALERT_UPDATE_FIELDS = [
    "fingerprint_fields", "group_key", "name", "status", "severity", "host", "description",
    "labels", "annotations", "started_at", "ended_at", "content_hash", "url", "incident",
    "group_reason", "updated_at",
]  # fmt: skip
INCIDENT_UPDATE_FIELDS = ["status", "severity", "updated_at", "acknowledged_at", "resolved_at"]


@dataclass
class NewAlertEvent:
    """An AlertEvent row to insert; "{incident}" in the reason is filled in once saved."""

    alert: Alert
    kind: str
    reason: str


@dataclass
class NewIncidentEvent:
    incident: Incident
    from_status: str
    to_status: str
    reason: str


class Changes:
    """The rows and events of one payload, all stamped with the same time and trace id."""

    def __init__(self, trace_id: str) -> None:
        self.trace_id = trace_id
        self.now = timezone.now()
        self.new_alerts: list[Alert] = []
        self.changed_alerts: list[Alert] = []
        self.new_incidents: list[Incident] = []
        self.dirty: dict[int, Incident] = {}  # id(incident) -> incident with a changed alert
        self.alert_events: list[NewAlertEvent] = []
        self.created_events: dict[int, NewAlertEvent] = {}  # id(alert) -> its "created" event
        self.event_incident: dict[int, Incident] = {}  # id(event) -> incident to name in it
        self.incident_events: list[NewIncidentEvent] = []

    def alert_event(
        self, alert: Alert, kind: str, reason: str, incident: Incident | None = None
    ) -> None:
        """Record an event; "{incident}" in the reason becomes the incident id once saved.

        A "grouped" reason is also kept on the alert (explain_alert shows it); for a new alert
        it is folded into its "created" event, one row instead of two.
        """
        if kind == "grouped":
            alert.group_reason = reason
        event = self.created_events.get(id(alert)) if kind == "grouped" else None
        if event is not None:
            event.reason = f"{event.reason}; {reason}"
        else:
            event = NewAlertEvent(alert=alert, kind=kind, reason=reason)
            self.alert_events.append(event)
            if kind == "created":
                self.created_events[id(alert)] = event
        if incident is not None:
            self.event_incident[id(event)] = incident

    def incident_event(self, incident: Incident, from_status: str, to_status: str, reason: str):
        self.incident_events.append(NewIncidentEvent(incident, from_status, to_status, reason))

    def save_alerts(self) -> None:
        """Insert new incidents first: new and changed alerts point at them."""
        insert_new(Incident, self.new_incidents, INCIDENT_INSERT_COLUMNS)
        for event in self.alert_events:
            incident = self.event_incident.get(id(event))
            if incident is not None:
                event.reason = event.reason.replace("{incident}", str(incident.pk))
                alert = event.alert
                alert.group_reason = alert.group_reason.replace("{incident}", str(incident.pk))
        insert_new(Alert, self.new_alerts, ALERT_INSERT_COLUMNS)
        if self.changed_alerts:
            update_rows(Alert, self.changed_alerts, ALERT_UPDATE_FIELDS)

    def save_incidents_and_events(self) -> None:
        new = {id(incident) for incident in self.new_incidents}
        existing = [inc for inc in self.dirty.values() if id(inc) not in new]
        if existing:
            update_rows(Incident, existing, INCIDENT_UPDATE_FIELDS)
        trace_id, now = self.trace_id, self.now
        insert_all_events(
            [(e.alert.pk, e.kind, e.reason, trace_id, now) for e in self.alert_events],
            [(e.incident.pk, e.from_status, e.to_status, e.reason, trace_id, now)
             for e in self.incident_events],
        )  # fmt: skip
