"""Who may see and who may act: Django users, groups and permissions (see groups.py)."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from apps.alerts.actions import Actor

from .groups import ADD_SILENCE, CHANGE_INCIDENT, EXPIRE_SILENCE, SEE, START_RUNS


def viewer(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page for signed-in users who may see incidents (both console groups, superusers)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.has_perm(SEE):
            raise PermissionDenied("your account is in neither console group")
        return view(request, *args, **kwargs)

    return wrapper


def require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied(f"you may look but not act (missing {perm})")


def abilities(request: HttpRequest) -> dict[str, bool]:
    """What the signed-in user may do, for the templates to show or hide the forms."""
    return {
        "can_change_incident": request.user.has_perm(CHANGE_INCIDENT),
        "can_start_runs": request.user.has_perm(START_RUNS),
        "can_add_silence": request.user.has_perm(ADD_SILENCE),
        "can_expire_silence": request.user.has_perm(EXPIRE_SILENCE),
    }


def actor(request: HttpRequest) -> Actor:
    return Actor(request.user.get_username(), "web")
