"""Ingest alerts: parse a vendor payload, deduplicate, group into incidents, record transitions.

One call works on the whole payload with a fixed number of queries: every existing alert of the
payload is read in one query, every active incident it may join in another, and all writes are
bulk operations. A re-sent identical alert (same source, fingerprint and content hash) writes
nothing at all.

Speed (the webhook path, issue 4): a narrow probe comes before each of those reads, so a payload
of new alerts in new groups builds no model from a read and compiles no ORM query; new rows
are written with multi-row INSERT ... RETURNING id (insert_new) instead of bulk_create, whose
per-field preparation cost more than everything else. The stored values are the same.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from apps.alerts.grouping import GroupingError, group_fields, group_key, shorten
from apps.alerts.models import SEVERITY_RANK, Alert, AlertEvent, Incident, IncidentEvent
from apps.common import metrics

logger = logging.getLogger(__name__)

DETECT_SOURCES = {None, "", "cli", "api", "webhook", "auto"}
CHECKS_SOURCE = "checks"
GENERIC_VENDOR = "generic"
ACTIVE_STATUSES = (Incident.Status.OPEN, Incident.Status.ACKNOWLEDGED)
# When one payload changes an incident in several ways, the strongest reason is reported.
CHANGE_ORDER = ("new", "reopened", "resolved", "severity_up")
LOOKUP_CHUNK = 500
ALERT_UPDATE_FIELDS = [
    "fingerprint_fields", "group_key", "name", "status", "severity", "host", "description",
    "labels", "annotations", "started_at", "ended_at", "content_hash", "url", "incident",
    "group_reason", "updated_at",
]  # fmt: skip
# What an Alert row takes from an Incoming alert.
COPIED_FIELDS = (
    "fingerprint", "fingerprint_fields", "group_key", "name", "status", "severity", "host",
    "description", "labels", "annotations", "started_at", "ended_at", "content_hash", "url",
)  # fmt: skip
INCIDENT_UPDATE_FIELDS = ["status", "severity", "updated_at", "acknowledged_at", "resolved_at"]


class IngestError(ValueError):
    """The payload cannot be ingested; the message is one line meant for the sender."""


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


@dataclass
class Incoming:
    """One normalised alert, ready to compare with what is stored."""

    fingerprint: str
    fingerprint_fields: list[str]
    group_key: str
    name: str
    status: str
    severity: str
    host: str
    description: str
    labels: dict
    annotations: dict
    started_at: datetime | None
    ended_at: datetime | None
    url: str
    action: str
    content_hash: str = ""


# --- parsing ----------------------------------------------------------------------------------


def resolve_source(payload: Any, source: str | None) -> tuple[str, str]:
    """Return (vendor to parse with, source to store under)."""
    from apps.alerts import vendors

    if source in DETECT_SOURCES:
        vendor = vendors.detect(payload)
        if vendor is None:
            raise IngestError(
                "no vendor recognises this payload; post it to /api/alerts/<vendor>/ or use the "
                "generic format (see docs/alerts.md)"
            )
        return vendor, vendor
    if source == CHECKS_SOURCE:
        return GENERIC_VENDOR, CHECKS_SOURCE
    if source in vendors.VENDORS:
        return str(source), str(source)
    known = ", ".join([*vendors.vendor_names(), CHECKS_SOURCE])
    raise IngestError(f"unknown source {source!r}; expected one of: {known}")


def parse_payload(payload: Any, vendor: str) -> list[Any]:
    from apps.alerts import vendors

    try:
        alerts = vendors.parse(payload, vendor)
    except vendors.PayloadError as exc:
        raise IngestError(one_line(exc)) from exc
    if not alerts:
        raise IngestError(f"the {vendor} payload holds no alerts")
    return alerts


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] or exc.__class__.__name__


def aware(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


def content_hash(item: Incoming) -> str:
    """What makes a re-sent alert "identical". Times are left out on purpose: parsers fill
    a missing start with the time of parsing, and a firing alert is the same alert whatever
    time a re-send carries; a real change of state changes the status anyway."""
    doc = [
        item.name, item.status, item.severity, item.host, item.description, item.labels,
        item.annotations, item.url, item.action, item.fingerprint_fields, item.group_key,
    ]  # fmt: skip
    raw = json.dumps(doc, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def to_incoming(alert: Any, source: str, fields: list[str]) -> Incoming:
    status = str(alert.status)
    if status not in Alert.Status.values:
        raise IngestError(f"alert {alert.name!r} has status {status!r}; expected firing/resolved")
    severity = str(alert.severity) if alert.severity in SEVERITY_RANK else "warning"
    name = str(alert.name or "unnamed alert")[:500]
    fingerprint = str(alert.fingerprint or "")
    fingerprint_fields = [str(f) for f in (alert.fingerprint_fields or [])]
    if not fingerprint:
        raw = json.dumps([source, name, alert.host, alert.labels], sort_keys=True, default=str)
        fingerprint = hashlib.sha256(raw.encode()).hexdigest()
        fingerprint_fields = ["source", "name", "host", "labels"]
    item = Incoming(
        fingerprint=shorten(fingerprint),
        fingerprint_fields=fingerprint_fields,
        group_key=group_key(alert, source, fields),
        name=name,
        status=status,
        severity=severity,
        host=str(alert.host or "")[:255],
        description=str(alert.description or ""),
        labels=dict(alert.labels or {}),
        annotations=dict(alert.annotations or {}),
        started_at=aware(alert.started_at),
        ended_at=aware(alert.ended_at),
        url=str(getattr(alert, "url", "") or "")[:2000],
        action=str(getattr(alert, "action", "") or ""),
    )
    item.content_hash = content_hash(item)
    return item


@dataclass
class Prepared:
    """A parsed payload, ready to store: its items (one per fingerprint) and, in payload order,
    the group key of every alert the vendor parser produced."""

    source: str
    items: list[Incoming]
    group_keys: list[str]


def prepare(payload: Any, source: str | None) -> tuple[str, list[Incoming]]:
    prepared = prepare_payload(payload, source)
    return prepared.source, prepared.items


def prepare_payload(payload: Any, source: str | None) -> Prepared:
    vendor, stored_source = resolve_source(payload, source)
    parsed = parse_payload(payload, vendor)
    try:
        fields = group_fields()
    except GroupingError as exc:
        raise IngestError(str(exc)) from exc
    by_fingerprint: dict[str, Incoming] = {}
    group_keys = []
    for alert in parsed:
        item = to_incoming(alert, stored_source, fields)
        by_fingerprint[item.fingerprint] = item  # the same alert twice in one body: last wins
        group_keys.append(item.group_key)
    return Prepared(stored_source, list(by_fingerprint.values()), group_keys)


# --- the entry point --------------------------------------------------------------------------


def ingest(payload: Any, source: str | None = None, *, trace_id: str = "") -> IngestResult:
    """Store the alerts of one payload; raises IngestError for a payload it cannot use."""
    stored_source, items = prepare(payload, source)
    return store(stored_source, items, trace_id=trace_id)


@contextlib.contextmanager
def write_turn() -> Iterator[None]:
    """On a SQLite file, make writers of all processes queue for their turn in the kernel.

    SQLite's busy handler polls with growing sleeps, so under load one gunicorn worker can
    keep missing the lock for seconds; a blocking flock on a file beside the database wakes
    the next writer as soon as the lock is free. Take it before BEGIN (outside atomic);
    nested calls inside a transaction do nothing. Other databases queue on row locks.
    """
    name = str(connection.settings_dict.get("NAME") or "")
    if connection.vendor != "sqlite" or connection.in_atomic_block or not is_file_db(name):
        yield
        return
    with open(f"{name}.write-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def is_file_db(name: str) -> bool:
    return bool(name) and ":memory:" not in name and "mode=memory" not in name


def store(stored_source: str, items: list[Incoming], *, trace_id: str = "") -> IngestResult:
    """Write prepared alerts. Callers that hold a transaction call prepare() before it, so
    parsing does not run while SQLite's write lock is held."""
    # Each attempt is its own transaction (or savepoint, inside a caller's transaction): a
    # failed first attempt leaves nothing behind either way, and no outer block is needed.
    with write_turn():
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


EVENT_COLUMNS = {
    AlertEvent: ("alert_id", "kind", "reason", "trace_id", "created_at"),
    IncidentEvent: ("incident_id", "from_status", "to_status", "reason", "trace_id", "created_at"),
}
# Columns written for a new row; "id" comes back from the database.
ALERT_INSERT_COLUMNS = (
    "source", "fingerprint", "fingerprint_fields", "group_key", "name", "status", "severity",
    "host", "description", "labels", "annotations", "started_at", "ended_at", "content_hash",
    "url", "group_reason", "incident_id", "created_at", "updated_at",
)  # fmt: skip
INCIDENT_INSERT_COLUMNS = (
    "title", "status", "severity", "group_key", "source", "host", "created_at", "updated_at",
    "acknowledged_at", "resolved_at",
)  # fmt: skip


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


def insert_events(model: type[AlertEvent] | type[IncidentEvent], rows: list[tuple]) -> None:
    """Append event rows with multi-row INSERTs (batched by the backend's parameter limit).

    Events are write-only rows of plain values; bulk_create would prepare every field of
    every object, which cost more than the rest of a webhook. The last column is a datetime.
    One statement rather than executemany: psycopg runs executemany as one statement per row.
    """
    if not rows:
        return
    columns = EVENT_COLUMNS[model]
    quote = connection.ops.quote_name
    head = "INSERT INTO {} ({}) VALUES ".format(  # noqa: S608 - names from the model only
        quote(model._meta.db_table), ", ".join(quote(column) for column in columns)
    )
    row_marks = "({})".format(", ".join(["%s"] * len(columns)))
    adapt = memoized(connection.ops.adapt_datetimefield_value)
    batch = max(1, connection.ops.bulk_batch_size(list(columns), rows))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            params = [value for row in chunk for value in (*row[:-1], adapt(row[-1]))]
            cursor.execute(head + ", ".join([row_marks] * len(chunk)), params)


def insert_new(model: type[Alert] | type[Incident], objs: list, columns: tuple[str, ...]) -> None:
    """INSERT new rows with RETURNING id and set each object's pk, as bulk_create does.

    bulk_create runs every field of every object through the ORM's preparation, which cost
    more than everything else a webhook does. Here only JSON and datetime columns go through
    their field's get_db_prep_save (the same conversion bulk_create applies); the other
    columns are plain strings and ids already. Backends without multi-row RETURNING (SQLite
    before 3.35) use bulk_create.
    """
    if not objs:
        return
    db = connections[DEFAULT_DB_ALIAS]  # the real connection: the proxy costs per attribute
    if not db.features.can_return_rows_from_bulk_insert:
        model.objects.bulk_create(objs)
        return
    fields = [model._meta.get_field(column.removesuffix("_id")) for column in columns]
    adapters = [column_adapter(field, db) for field in fields]
    for model_field in fields:
        if model_field.is_relation:
            link_saved_parents(objs, model_field)
    quote = db.ops.quote_name
    head = "INSERT INTO {} ({}) VALUES ".format(  # noqa: S608 - names from the model only
        quote(model._meta.db_table), ", ".join(quote(column) for column in columns)
    )
    tail = f" RETURNING {quote(model._meta.pk.column)}"
    row_marks = "({})".format(", ".join(["%s"] * len(columns)))
    batch = max(1, db.ops.bulk_batch_size(fields, objs))
    with db.cursor() as cursor:
        for start in range(0, len(objs), batch):
            chunk = objs[start : start + batch]
            params: list[Any] = []
            for obj in chunk:
                for column, adapt in zip(columns, adapters, strict=True):
                    value = getattr(obj, column)
                    params.append(value if adapt is None or value is None else adapt(value))
            cursor.execute(head + ", ".join([row_marks] * len(chunk)) + tail, params)
            for obj, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = db.alias


def link_saved_parents(objs: list, field: Any) -> None:
    """Copy the pk of a parent saved after it was assigned (a new incident) into the
    foreign key column, keeping the cached parent object, as bulk_create does."""
    for obj in objs:
        if getattr(obj, field.attname) is None and field.is_cached(obj):
            parent = field.get_cached_value(obj)
            if parent is not None and parent.pk is None:
                raise ValueError(f"{field.name} of a new {type(obj).__name__} is not saved yet")
            if parent is not None:
                setattr(obj, field.name, parent)


def column_adapter(field: Any, db: Any) -> Any:
    """What turns a non-None value of this field into a query parameter (None: as it is).

    The same backend adapters the fields' get_db_prep_save end in. Datetimes here are
    always aware (aware() and timezone.now()), so the naive-datetime warning does not apply.
    """
    kind = field.get_internal_type()
    if kind == "JSONField":
        return lambda value: db.ops.adapt_json_value(value, field.encoder)
    if kind == "DateTimeField":
        return memoized(db.ops.adapt_datetimefield_value)
    return None


def memoized(adapt: Any) -> Any:
    """Adapt each distinct value once: most datetimes of a payload are the same "now"."""
    done: dict[Any, Any] = {}

    def adapt_once(value: Any) -> Any:
        if value not in done:
            done[value] = adapt(value)
        return done[value]

    return adapt_once


def new_row(model: type[Alert] | type[Incident], **values: Any) -> Any:
    """An unsaved instance built the way Django builds a loaded row (positional __init__),
    which skips the per-keyword work of Model(**kwargs); unnamed fields get their default."""
    return model(
        *[
            values[field.attname] if field.attname in values else field.get_default()
            for field in model._meta.concrete_fields
        ]
    )


def stored_fingerprints(source: str, fingerprints: list[str]) -> set[str]:
    """Which of these fingerprints are stored: one indexed read, no model objects."""
    quote = connection.ops.quote_name
    table, fingerprint = quote(Alert._meta.db_table), quote("fingerprint")
    found: set[str] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(fingerprints), LOOKUP_CHUNK):
            chunk = fingerprints[start : start + LOOKUP_CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            sql = f"SELECT {fingerprint} FROM {table} WHERE {quote('source')} = %s"  # noqa: S608
            cursor.execute(f"{sql} AND {fingerprint} IN ({marks})", [source, *chunk])
            found.update(row[0] for row in cursor.fetchall())
    return found


def any_active_incident(keys: set[str]) -> bool:
    """Whether an open or acknowledged incident holds one of these group keys."""
    if not keys:
        return False
    quote = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(keys))
    sql = (
        f"SELECT 1 FROM {quote(Incident._meta.db_table)} "  # noqa: S608 - names from the model
        f"WHERE {quote('status')} IN (%s, %s) AND {quote('group_key')} IN ({marks}) LIMIT 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*map(str, ACTIVE_STATUSES), *keys])
        return cursor.fetchone() is not None


class Ingestion:
    """One pass over a payload's alerts inside a transaction."""

    def __init__(self, source: str, items: list[Incoming], trace_id: str) -> None:
        self.source = source
        self.items = items
        self.trace_id = trace_id
        self.now = timezone.now()
        self.result = IngestResult(source=source)
        self.new_alerts: list[Alert] = []
        self.changed_alerts: list[Alert] = []
        self.new_incidents: list[Incident] = []
        self.active: dict[str, Incident] = {}
        self.dirty: dict[int, Incident] = {}  # id(incident) -> incident with a changed alert
        self.reasons: dict[int, str] = {}
        self.alert_events: list[NewAlertEvent] = []
        self.created_events: dict[int, NewAlertEvent] = {}  # id(alert) -> its "created" event
        self.event_incident: dict[int, Incident] = {}  # id(event) -> incident to name in it
        self.incident_events: list[NewIncidentEvent] = []

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
        if not own and not any_active_incident(keys):  # new alerts of new groups
            return
        rows = Incident.objects.select_for_update().filter(
            Q(group_key__in=keys, status__in=ACTIVE_STATUSES) | Q(pk__in=own)
        )
        by_pk = {incident.pk: incident for incident in rows}
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
        self.copy_fields(alert, item)
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
        if incident is None:
            self.group(alert)
            return
        holder = self.active.get(incident.group_key)  # its incident resolved: reopen that one
        if holder is None or holder is incident:
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
            incident.severity = max(
                incident.severity, alert.severity, key=SEVERITY_RANK.__getitem__
            )
        self.alert_event(alert, "grouped", f"joined incident #{{incident}}: {why}", incident)

    def open_incident(self, alert: Alert) -> None:
        title = f"{alert.name} on {alert.host}" if alert.host else alert.name
        incident = new_row(
            Incident, title=title[:500], status=Incident.Status.OPEN, severity=alert.severity,
            group_key=alert.group_key, source=self.source, host=alert.host,
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
        if trigger is None or SEVERITY_RANK[alert.severity] > SEVERITY_RANK[trigger.severity]:
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
            self.rate(incident, max(severities, key=SEVERITY_RANK.__getitem__))

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
        if SEVERITY_RANK[severity] > SEVERITY_RANK[incident.severity]:
            self.mark(incident, "severity_up")
        self.incident_event(
            incident, incident.status, incident.status,
            f"severity {incident.severity} -> {severity}",
        )  # fmt: skip
        incident.severity = severity

    # writes

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
            Alert.objects.bulk_update(self.changed_alerts, ALERT_UPDATE_FIELDS)

    def save_incidents_and_events(self) -> None:
        new = {id(incident) for incident in self.new_incidents}
        existing = [inc for inc in self.dirty.values() if id(inc) not in new]
        if existing:
            Incident.objects.bulk_update(existing, INCIDENT_UPDATE_FIELDS)
        trace_id, now = self.trace_id, self.now
        insert_events(
            AlertEvent,
            [(e.alert.pk, e.kind, e.reason, trace_id, now) for e in self.alert_events],
        )
        insert_events(
            IncidentEvent,
            [(e.incident.pk, e.from_status, e.to_status, e.reason, trace_id, now)
             for e in self.incident_events],
        )  # fmt: skip

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
