"""/api/hosts/: the fleet as the hub knows it (agents' snapshots). POST .../snapshots is a plain
Django view (apps.api.host_snapshots) for speed."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from apps.api.auth import READ
from apps.api.errors import not_found
from apps.api.schemas import ErrorOut
from apps.hosts.models import Host
from apps.hosts.services import find
from apps.hosts.summaries import host_detail, host_summary, with_open_incidents

router = Router(tags=["hosts"])
ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 404, 422)}
MAX_LIMIT = 1000


@router.get("", auth=READ, response={200: list[dict[str, Any]], **ERRORS})
def list_hosts(
    request: HttpRequest,
    limit: int = Query(200, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=2**31),
):
    """Hosts by name: last seen, source, worst status, open incidents."""
    hosts = with_open_incidents(list(Host.objects.all()[offset : offset + limit]))
    return [host_summary(host) for host in hosts]


@router.get("/{name}", auth=READ, response={200: dict[str, Any], **ERRORS})
def get_host(request: HttpRequest, name: str):
    """One host (by name or alias) with its latest snapshot, per check."""
    host = find(name)
    if host is None:
        raise not_found("host", name)
    return host_detail(with_open_incidents([host])[0])
