"""The host registry: which host is this machine, snapshots in, silent hosts, pruning."""

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from apps.common.pgcursor import one_message_cursor

from .models import Host, HostSnapshot, Source
from .snapshots import Snapshot

# A history row is written when a status changed, else at most this often per host.
HISTORY_EVERY = timedelta(minutes=5)
SILENT_PREFIX = "agent:silent:"


def this_host_names() -> set[str]:
    """This machine's name and aliases (HOST_NAME, HOST_ALIASES), lower-cased."""
    return {name.lower() for name in (settings.HOST_NAME, *settings.HOST_ALIASES) if name}


def is_this_host(name: str) -> bool:
    return name.lower() in this_host_names()


def find(name: str) -> Host | None:
    """The host named `name`, or the one that lists it among its aliases (any case)."""
    name = name.lower()
    host = Host.objects.filter(name=name).first()
    if host is not None:
        return host
    for candidate in Host.objects.exclude(aliases=[]).only("name", "aliases"):
        if name in (alias.lower() for alias in candidate.aliases or []):
            return Host.objects.get(pk=candidate.pk)
    return None


@dataclass
class Recorded:
    host: Host
    created: bool
    changed: dict[str, dict[str, Any]] = field(default_factory=dict)  # checks whose status moved
    was_silent: bool = False


def snapshot_fields(snapshot: Snapshot, source: str, now: datetime) -> dict[str, Any]:
    """The host row's columns a snapshot sets, whatever else it changes."""
    fields: dict[str, Any] = {
        "last_seen": now,
        "last_source": source,
        "snapshot": {
            "observed_at": snapshot.observed_at.isoformat(),
            "checks": snapshot.checks,
            "host": snapshot.info,
            "interval_s": snapshot.interval_s,
            "agent_version": snapshot.agent_version,
        },
        "snapshot_at": snapshot.observed_at,
    }
    if snapshot.labels:
        fields["labels"] = snapshot.labels
    return fields


def refresh_unchanged(name: str, snapshot: Snapshot, source: str = Source.AGENT) -> Recorded | None:
    """PostgreSQL: the common snapshot (a known host, no status changed, no history row due,
    not marked silent) as one statement in autocommit: no transaction to open and commit, no
    lock to queue on. None when any of that does not hold: record_snapshot does the rest."""
    if connection.vendor != "postgresql":
        return None
    name, now = name.lower(), timezone.now()
    fields = snapshot_fields(snapshot, source, now)
    quote = connection.ops.quote_name
    assignments, params = set_clause(fields)
    # Sent as one message, the two statements are one implicit transaction, so SET LOCAL
    # applies to this update only: its commit does not wait for the WAL to reach the disk. A
    # crash can lose the last fraction of a second of "last seen" times, which the host's next
    # snapshot writes again; a status change (an alert) never takes this path.
    sql = (
        "SET LOCAL synchronous_commit TO OFF; "  # noqa: S608 - model names only
        f"UPDATE {quote(Host._meta.db_table)} SET {assignments} "
        "WHERE name = %s AND statuses @> %s::jsonb AND history_at >= %s "
        "AND silent_since IS NULL RETURNING id"
    )
    due_before = connection.ops.adapt_datetimefield_value(now - HISTORY_EVERY)
    with one_message_cursor(connection) as cursor:
        cursor.execute(sql, [*params, name, json.dumps(snapshot.statuses()), due_before])
        cursor.nextset()  # past the SET's empty result
        found = cursor.fetchone()
    if found is None:
        return None
    return Recorded(Host(pk=found[0], name=name, **fields), created=False)


def record_snapshot(name: str, snapshot: Snapshot, source: str = Source.AGENT) -> Recorded:
    """Store a snapshot in one short transaction: the host row always, a history row when a
    status changed (or every HISTORY_EVERY); returns the checks whose status changed.

    The path of a known host (thousands of agents a minute) is two plain statements: a SELECT
    of the few columns it needs (FOR UPDATE where the database has it) and one UPDATE; the
    stored snapshot is never read back."""
    name, now = name.lower(), timezone.now()
    fields = snapshot_fields(snapshot, source, now)
    # No savepoint: callers that nest this in their own transaction roll back as a whole.
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            row = update_returning_previous(name, fields, snapshot.statuses(), now)
        else:
            row = current_row(name, now - HISTORY_EVERY)
        if row is None:
            fields["statuses"] = snapshot.statuses()
            fields["history_at"] = now
            host = Host.objects.create(name=name, first_seen=now, **fields)
            changed, was_silent = dict(snapshot.checks), False
        else:
            pk, previous, was_silent, history_due = row
            changed = {
                check: result
                for check, result in snapshot.checks.items()
                if previous.get(check) != result["status"]
            }
            statuses = {**previous, **snapshot.statuses()}
            if statuses != previous:
                fields["statuses"] = statuses
            if changed or history_due:
                fields["history_at"] = now
            if connection.vendor != "postgresql":  # there the row was updated as it was read
                update_row(pk, {**fields, "silent_since": None})
            host = Host(pk=pk, name=name, **{**fields, "statuses": statuses})
        if "history_at" in fields:
            HostSnapshot.objects.create(
                host_id=host.pk,
                source=source,
                observed_at=snapshot.observed_at,
                received_at=now,
                checks=snapshot.checks,
                info=snapshot.info,
            )
    return Recorded(host, row is None, changed, was_silent)


def current_row(name: str, history_before: datetime) -> tuple[int, dict, bool, bool] | None:
    """(pk, statuses, silent?, history row due?) of a host, or None for a new one."""
    table = connection.ops.quote_name(Host._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = (
        f"SELECT id, statuses, silent_since IS NOT NULL, "  # noqa: S608 - model names only
        f"(history_at IS NULL OR history_at < %s) FROM {table} WHERE name = %s{lock}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datetimefield_value(history_before), name])
        found = cursor.fetchone()
    if found is None:
        return None
    statuses = json.loads(found[1]) if isinstance(found[1], str | bytes) else found[1]
    return found[0], statuses or {}, bool(found[2]), bool(found[3])


def update_returning_previous(
    name: str, fields: dict[str, Any], statuses: dict[str, str], now: datetime
) -> tuple[int, dict, bool, bool] | None:
    """PostgreSQL: update a known host in one round trip and return what current_row returns
    (the values from before the update); None for a new host (nothing is written then).

    The statuses are merged and the history mark moved in SQL by the same rules
    record_snapshot applies: history is due when a status changed or HISTORY_EVERY passed."""
    quote = connection.ops.quote_name
    table = quote(Host._meta.db_table)
    columns, params = [], []
    for field_name, value in {**fields, "silent_since": None}.items():
        model_field = Host._meta.get_field(field_name)
        columns.append(f"{quote(model_field.column)} = %s")  # type: ignore[union-attr]
        params.append(model_field.get_db_prep_save(value, connection))
    new_statuses = json.dumps(statuses)
    due_before = connection.ops.adapt_datetimefield_value(now - HISTORY_EVERY)
    stamp = connection.ops.adapt_datetimefield_value(now)
    sql = (
        f"UPDATE {table} AS h SET {', '.join(columns)}, "  # noqa: S608 - model names only
        "statuses = old.statuses || %s::jsonb, "
        "history_at = CASE WHEN old.statuses @> %s::jsonb AND old.history_at >= %s "
        "THEN old.history_at ELSE %s END "
        f"FROM (SELECT id, statuses, silent_since, history_at FROM {table} "
        "WHERE name = %s FOR UPDATE) AS old WHERE h.id = old.id "
        "RETURNING old.id, old.statuses, old.silent_since IS NOT NULL, "
        "(old.history_at IS NULL OR old.history_at < %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [*params, new_statuses, new_statuses, due_before, stamp, name, due_before]
        )
        found = cursor.fetchone()
    if found is None:
        return None
    previous = json.loads(found[1]) if isinstance(found[1], str | bytes) else found[1]
    return found[0], previous or {}, bool(found[2]), bool(found[3])


def set_clause(values: dict[str, Any]) -> tuple[str, list[Any]]:
    """`col = %s, …` for these Host fields, with each value prepared as the ORM would save it."""
    quote = connection.ops.quote_name
    columns, params = [], []
    for name, value in values.items():
        model_field = Host._meta.get_field(name)
        columns.append(f"{quote(model_field.column)} = %s")  # type: ignore[union-attr]
        params.append(model_field.get_db_prep_save(value, connection))
    return ", ".join(columns), params


def update_row(pk: int, values: dict[str, Any]) -> None:
    """One UPDATE of the given fields, with each value prepared as the ORM would save it."""
    assignments, params = set_clause(values)
    table = connection.ops.quote_name(Host._meta.db_table)
    sql = f"UPDATE {table} SET {assignments} WHERE id = %s"  # noqa: S608 - model names only
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, pk])


def silent_hosts(now: datetime | None = None) -> list[Host]:
    """Hosts whose agent reported and then went quiet for HOST_SILENT_AFTER_S, not yet marked."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.HOST_SILENT_AFTER_S)
    return list(
        Host.objects.filter(
            last_source=Source.AGENT, silent_since__isnull=True, last_seen__lt=cutoff
        )
    )


def mark_silent(host: Host) -> bool:
    """Mark a host silent once (False when another sweep, or a snapshot, got there first)."""
    now = timezone.now()
    updated = Host.objects.filter(
        pk=host.pk, silent_since__isnull=True, last_seen=host.last_seen
    ).update(silent_since=now)
    if updated:
        host.silent_since = now
    return updated == 1


def silent_alert(host: Host, *, firing: bool) -> dict[str, Any]:
    """The "<host> stopped reporting" alert in the generic format (stored with source agent)."""
    age = int((timezone.now() - host.last_seen).total_seconds())
    description = (
        f"no snapshot from {host.name} for {age} s (last at "
        f"{host.last_seen:%Y-%m-%d %H:%M:%S} UTC; HOST_SILENT_AFTER_S="
        f"{settings.HOST_SILENT_AFTER_S:g})"
        if firing
        else f"{host.name} reports again"
    )
    return {
        "alerts": [
            {
                "name": f"{host.name} stopped reporting",
                "status": "firing" if firing else "resolved",
                "severity": "critical",
                "host": host.name,
                "description": description,
                "labels": {"alertname": "HostStoppedReporting"},
                "fingerprint": f"{SILENT_PREFIX}{host.name}",
            }
        ]
    }


def forget(name: str) -> Host | None:
    """Remove a host and its history; returns the removed host (None if unknown)."""
    host = find(name)
    if host is not None:
        host.delete()
    return host


def prunable_snapshots(cutoff: datetime) -> "QuerySet[HostSnapshot]":
    """History rows to prune: received before `cutoff` or more than
    HOST_SNAPSHOTS_MAX_AGE_DAYS ago, and every row beyond HOST_SNAPSHOTS_KEEP per host."""
    age_limit = timezone.now() - timedelta(days=settings.HOST_SNAPSHOTS_MAX_AGE_DAYS)
    doomed = set(
        HostSnapshot.objects.filter(received_at__lt=max(cutoff, age_limit)).values_list(
            "pk", flat=True
        )
    )
    keep = max(1, settings.HOST_SNAPSHOTS_KEEP)
    crowded = HostSnapshot.objects.values("host_id").annotate(n=Count("id")).filter(n__gt=keep)
    for row in crowded:
        ids = HostSnapshot.objects.filter(host_id=row["host_id"]).order_by("-id")
        doomed.update(ids.values_list("pk", flat=True)[keep:])
    return HostSnapshot.objects.filter(pk__in=sorted(doomed))
