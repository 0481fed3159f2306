"""Hosts: the fleet as the hub knows it (apps.hosts), and one host's latest snapshot."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from apps.alerts.models import ACTIVE_STATUSES, Incident
from apps.common.severity import rank
from apps.hosts.models import Host
from apps.hosts.services import find
from apps.hosts.summaries import host_detail, host_summary, with_open_incidents

from ..access import viewer

PAGE_SIZE = 200


@viewer
def host_list(request: HttpRequest) -> HttpResponse:
    """Worst first (silent, then by the worst check), PAGE_SIZE a page."""
    hosts = sorted(
        Host.objects.defer("snapshot"),
        key=lambda host: (host.silent_since is None, -rank(host.worst_status), host.name),
    )
    pages = max(1, -(-len(hosts) // PAGE_SIZE))
    number = request.GET.get("page", "1")
    number = min(int(number), pages) if number.isdigit() and 0 < len(number) < 6 else 1
    shown = with_open_incidents(hosts[(number - 1) * PAGE_SIZE : number * PAGE_SIZE])
    rows = []
    for host in shown:
        row = host_summary(host)
        row["url"] = reverse("console:host", args=[host.name])
        rows.append(row)
    context = {
        "rows": rows,
        "total": len(hosts),
        "page": number,
        "pages": pages,
        "title": "Hosts",
    }
    return render(request, "console/hosts.html", context)


@viewer
def host_page(request: HttpRequest, name: str) -> HttpResponse:
    host = None if "\x00" in name else find(name)  # no stored name holds a NUL
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
