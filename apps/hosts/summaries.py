"""Plain-data views of hosts, shared by the API and `manage.py hosts`."""

from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from .models import Host


def with_open_incidents(hosts: Any) -> Any:
    """Annotate a Host queryset with `open_incidents` (incidents open or acknowledged)."""
    from apps.alerts.models import Incident

    counts = dict(
        Incident.objects.filter(
            Q(status=Incident.Status.OPEN) | Q(status=Incident.Status.ACKNOWLEDGED),
            host__in=[host.name for host in hosts],
        )
        .values_list("host")
        .annotate(n=Count("id"))
    )
    for host in hosts:
        host.open_incidents = counts.get(host.name, 0)
    return hosts


def host_summary(host: Host) -> dict[str, Any]:
    now = timezone.now()
    return {
        "name": host.name,
        "aliases": host.aliases,
        "labels": host.labels,
        "first_seen": host.first_seen.isoformat(),
        "last_seen": host.last_seen.isoformat(),
        "last_seen_age_s": round((now - host.last_seen).total_seconds()),
        "last_source": host.last_source,
        "worst_status": host.worst_status,
        "statuses": host.statuses,
        "silent_since": host.silent_since.isoformat() if host.silent_since else None,
        "open_incidents": getattr(host, "open_incidents", None),
        "snapshot_at": host.snapshot_at.isoformat() if host.snapshot_at else None,
    }


def host_detail(host: Host) -> dict[str, Any]:
    detail = host_summary(host)
    detail["snapshot"] = host.snapshot
    return detail
