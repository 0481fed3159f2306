"""The host registry: which host is this machine, snapshots in, silent hosts, pruning."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

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
    """The host named `name`, or the one that lists it among its aliases."""
    host = Host.objects.filter(name=name).first()
    if host is not None:
        return host
    for candidate in Host.objects.exclude(aliases=[]).only("name", "aliases"):
        if name in (candidate.aliases or []):
            return Host.objects.get(pk=candidate.pk)
    return None


@dataclass
class Recorded:
    host: Host
    created: bool
    changed: dict[str, dict[str, Any]] = field(default_factory=dict)  # checks whose status moved
    was_silent: bool = False


def record_snapshot(name: str, snapshot: Snapshot, source: str = Source.AGENT) -> Recorded:
    """Store a snapshot in one short transaction: the host row always, a history row when a
    status changed (or every HISTORY_EVERY); returns the checks whose status changed."""
    now = timezone.now()
    with transaction.atomic():
        host = Host.objects.select_for_update().filter(name=name).first()
        created = host is None
        if host is None:
            host = Host(name=name, first_seen=now)
        previous = host.statuses or {}
        changed = {
            check: result
            for check, result in snapshot.checks.items()
            if previous.get(check) != result["status"]
        }
        was_silent = host.silent_since is not None
        host.last_seen, host.last_source, host.silent_since = now, source, None
        host.snapshot = {
            "observed_at": snapshot.observed_at.isoformat(),
            "checks": snapshot.checks,
            "host": snapshot.info,
            "interval_s": snapshot.interval_s,
            "agent_version": snapshot.agent_version,
        }
        host.snapshot_at = snapshot.observed_at
        host.statuses = {**previous, **snapshot.statuses()}
        if snapshot.labels:
            host.labels = snapshot.labels
        keep_history = created or bool(changed) or host.history_at is None
        keep_history = keep_history or now - host.history_at >= HISTORY_EVERY
        if keep_history:
            host.history_at = now
        host.save()
        if keep_history:
            HostSnapshot.objects.create(
                host=host,
                source=source,
                observed_at=snapshot.observed_at,
                received_at=now,
                checks=snapshot.checks,
                info=snapshot.info,
            )
    return Recorded(host, created, changed, was_silent)


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
