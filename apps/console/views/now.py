"""Now (`/`): open incidents worst first, refreshing themselves in place."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from apps.alerts.queries import FilterError, IncidentFilters, incident_page
from apps.common.severity import SEVERITIES

from ..access import viewer

# Enough for a bad night; the counts above the list cover every match, filters narrow it.
PAGE_SIZE = 100
FILTERS = ("status", "host", "source", "severity")


def tab_title(by_severity: dict[str, int]) -> str:
    """`2 critical · 1 warning — Now`: what a browser tab shows of the page."""
    counts = " · ".join(f"{n} {name}" for name, n in by_severity.items() if n)
    return f"{counts or 'all clear'} — Now"


@viewer
def now(request: HttpRequest) -> HttpResponse:
    raw = {name: request.GET.get(name, "").strip()[:200] for name in FILTERS}
    error = ""
    try:
        filters = IncidentFilters.parse(**raw)
    except FilterError as exc:
        error, filters = str(exc), IncidentFilters()
    page = incident_page(filters, limit=PAGE_SIZE)
    groups: dict[str, list[dict]] = {}
    for row in page.rows:
        # Built here rather than with {% url %} per row: rendering is most of the page's time.
        row["url"] = reverse("console:incident", args=[row["id"]])
        row["host_url"] = reverse("console:host", args=[row["host"]]) if row["host"] else ""
        groups.setdefault(row["severity"], []).append(row)
    context = {
        "filters": raw,
        "error": error,
        "groups": groups,
        "page": page,
        "shown": len(page.rows),
        "title": tab_title(page.by_severity),
        "severities": list(reversed(SEVERITIES)),
        "refresh_s": settings.CONSOLE_REFRESH_S,
    }
    # The page's script asks for the body alone every few seconds and swaps it in.
    template = "console/_now_body.html" if request.GET.get("fragment") else "console/now.html"
    # A NUL cannot be typed: refused as a bad request; other filter errors are shown and the
    # page keeps refreshing its list.
    refused = any("\x00" in value for value in raw.values())
    response = render(request, template, context, status=400 if refused else 200)
    response["Cache-Control"] = "no-store"
    return response
