"""Incidents as people look at them: filtered, worst first, with what happened to each.

One reading shared by the console's Now page, `manage.py incidents` and `GET /api/incidents`.
A page of incidents costs a bounded number of queries whatever its size: the page (alert counts
and the ids of the latest analysis and delivery as subqueries), the count per severity, the
analyses' summaries, the deliveries, and two to four for the silenced/inhibited marks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.alerts.models import ACTIVE_STATUSES, Alert, Incident
from apps.common.severity import SEVERITIES, rank
from apps.common.text import one_line

MAX_LIMIT = 500
STATUS_CHOICES = tuple(Incident.Status.values)


class FilterError(ValueError):
    """A filter value that means nothing (one line)."""


@dataclass
class IncidentFilters:
    statuses: tuple[str, ...] = ACTIVE_STATUSES
    host: str = ""
    source: str = ""
    severity: str = ""

    @classmethod
    def parse(
        cls, status: str = "", host: str = "", source: str = "", severity: str = ""
    ) -> IncidentFilters:
        """From user text: status is open, acknowledged, resolved, active (the default) or all."""
        wanted = (status or "").strip().lower() or "active"  # blank: the default
        if wanted == "active":
            statuses: tuple[str, ...] = ACTIVE_STATUSES
        elif wanted == "all":
            statuses = STATUS_CHOICES
        elif wanted in STATUS_CHOICES:
            statuses = (wanted,)
        else:
            raise FilterError(
                f"unknown status {status!r}; use {', '.join(STATUS_CHOICES)}, active or all"
            )
        severity = severity.strip().lower()
        if severity and severity not in SEVERITIES:
            raise FilterError(f"unknown severity {severity!r}; use {', '.join(SEVERITIES)}")
        for name, value in (("host", host), ("source", source)):
            if "\x00" in value:  # PostgreSQL cannot compare text holding one
                raise FilterError(f"the {name} filter holds a NUL character")
        return cls(statuses, host.strip().lower(), source.strip(), severity)

    def queryset(self) -> QuerySet[Incident]:
        incidents = Incident.objects.filter(status__in=self.statuses)
        if self.host:
            incidents = incidents.filter(host=self.host)
        if self.source:
            incidents = incidents.filter(source=self.source)
        if self.severity:
            incidents = incidents.filter(severity=self.severity)
        return incidents


@dataclass
class IncidentPage:
    rows: list[dict[str, Any]]
    total: int
    by_severity: dict[str, int] = field(default_factory=dict)


def worst_first() -> list[Any]:
    """Critical before warning before info; open before acknowledged; newest first."""
    severity = Case(
        *(When(severity=name, then=Value(-rank(name))) for name in SEVERITIES),
        default=Value(0),
        output_field=IntegerField(),
    )
    status = Case(
        When(status=Incident.Status.OPEN, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return [severity, status, "-created_at", "-id"]


def incident_page(filters: IncidentFilters, *, limit: int = 200, offset: int = 0) -> IncidentPage:
    from apps.intelligence.models import AnalysisRun
    from apps.notify.models import Delivery

    limit = max(1, min(limit, MAX_LIMIT))
    alerts = Alert.objects.filter(incident=OuterRef("pk")).order_by().values("incident")
    page = list(
        filters.queryset()
        .annotate(
            alert_count=Coalesce(Subquery(alerts.annotate(n=Count("*")).values("n")), 0),
            firing_count=Coalesce(
                Subquery(alerts.filter(status="firing").annotate(n=Count("*")).values("n")), 0
            ),
            analysis_id=Subquery(
                AnalysisRun.objects.filter(incident=OuterRef("pk")).order_by("-id").values("id")[:1]
            ),
            delivery_id=Subquery(
                Delivery.objects.filter(incident=OuterRef("pk")).order_by("-id").values("id")[:1]
            ),
        )
        .order_by(*worst_first())[offset : offset + limit]
    )
    counts = dict(filters.queryset().order_by().values_list("severity").annotate(n=Count("id")))
    summaries = dict(
        AnalysisRun.objects.filter(pk__in=[i.analysis_id for i in page if i.analysis_id])
        .order_by()
        .values_list("id", "output__summary")
    )
    deliveries = {
        d.pk: d
        for d in Delivery.objects.filter(pk__in=[i.delivery_id for i in page if i.delivery_id])
        .order_by()
        .only(
            "id",
            "driver",
            "destination",
            "status",
            "response_code",
            "attempts",
            "created_at",
            "last_error",
            "kind",
        )  # fmt: skip
    }
    from apps.alerts.inhibition import quiet_reasons

    quiet = quiet_reasons([i.pk for i in page])
    rows = [
        incident_row(
            i, summaries.get(i.analysis_id), deliveries.get(i.delivery_id), quiet.get(i.pk)
        )
        for i in page
    ]
    by_severity = {name: counts.get(name, 0) for name in reversed(SEVERITIES)}
    return IncidentPage(rows, sum(counts.values()), by_severity)


def delivery_outcome(delivery: Any) -> dict[str, Any] | None:
    if delivery is None:
        return None
    return {
        "id": delivery.pk,
        "driver": delivery.driver,
        "destination": delivery.destination,
        "kind": delivery.kind,
        "status": delivery.status,
        "response_code": delivery.response_code,
        "attempts": delivery.attempts,
        "error": one_line(delivery.last_error, 200) if delivery.last_error else "",
        "at": delivery.created_at.isoformat(),
    }


def incident_row(
    incident: Incident, summary: Any, delivery: Any, silenced: str | None = None
) -> dict[str, Any]:
    """The list view of one incident (plain data: JSON for the API and CLI, context for pages)."""
    now = timezone.now()
    row = incident.as_dict()
    row.update(
        updated_at=incident.updated_at.isoformat(),
        acknowledged_at=incident.acknowledged_at.isoformat() if incident.acknowledged_at else None,
        age_s=round((now - incident.created_at).total_seconds()),
        alert_count=getattr(incident, "alert_count", None),
        firing_count=getattr(incident, "firing_count", None),
        analysis_summary=one_line(summary, 300) if summary else "",
        last_delivery=delivery_outcome(delivery),
        # Why its pages are held back now (a silence or an inhibition rule), or None.
        silenced=silenced,
    )
    return row


def active_counts() -> dict[str, int]:
    """Open and acknowledged incidents per severity, worst first (the page title's numbers)."""
    counts = dict(
        Incident.objects.filter(status__in=ACTIVE_STATUSES)
        .order_by()
        .values_list("severity")
        .annotate(n=Count("id"))
    )
    return {name: counts.get(name, 0) for name in reversed(SEVERITIES)}
