"""Hosts: the fleet as the hub knows it (apps.hosts), and one host's latest snapshot."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from apps.alerts.models import ACTIVE_STATUSES, Incident
from apps.common.severity import rank
from apps.hosts.models import Host
from apps.hosts.services import find
from apps.hosts.summaries import host_detail, host_summary, with_open_incidents

from ..access import viewer

PAGE_SIZE = 500


@viewer
def host_list(request: HttpRequest) -> HttpResponse:
    hosts = with_open_incidents(list(Host.objects.defer("snapshot")[:PAGE_SIZE]))
    rows = sorted(
        (host_summary(host) for host in hosts),
        key=lambda row: (not row["silent_since"], -rank(row["worst_status"]), row["name"]),
    )
    return render(
        request, "console/hosts.html", {"rows": rows, "total": Host.objects.count(), "title": "Hosts"}
    )


@viewer
def host_page(request: HttpRequest, name: str) -> HttpResponse:
    host = find(name)
    if host is None:
        raise Http404("no such host")
    detail = host_detail(with_open_incidents([host])[0])
    incidents = Incident.objects.filter(host=host.name, status__in=ACTIVE_STATUSES).order_by("-id")[
        :100
    ]
    snapshot = detail["snapshot"] if isinstance(detail["snapshot"], dict) else {}
    context = {
        "host": detail,
        "checks": snapshot.get("checks") or {},
        "info": snapshot.get("host") or {},
        "incidents": list(incidents),
        "title": f"Host {host.name}",
    }
    return render(request, "console/host.html", context)
