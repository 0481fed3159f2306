"""Silences: the list (active, pending and scheduled, ended on demand), one silence with what it
silences now and its window schedule, the create form with its preview, expire; and the
inhibition rules, read-only (the admin edits them)."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.alerts import silences
from apps.alerts.models import Silence
from apps.common.text import one_line

from ..access import abilities, require, viewer
from ..groups import ADD_SILENCE, EXPIRE_SILENCE
from ..silences import PREVIEW_LIMIT, SilenceForm, grouped, preview, reach, row, rule_rows
from .incidents import MAX_ID


def get_silence(silence_id: int) -> Silence:
    silence = Silence.objects.filter(pk=silence_id).first() if silence_id <= MAX_ID else None
    if silence is None:
        raise Http404("no such silence")
    return silence


@viewer
def silence_list(request: HttpRequest) -> HttpResponse:
    include_ended = request.GET.get("ended") == "1"
    context = {
        "groups": grouped(include_ended, timezone.now()),
        "include_ended": include_ended,
        "title": "Silences",
        **abilities(request),
    }
    return render(request, "console/silences.html", context)


@viewer
def silence_page(request: HttpRequest, silence_id: int) -> HttpResponse:
    silence = get_silence(silence_id)
    now = timezone.now()
    opened = silences.window(silence, now)
    context = {
        "row": row(silence, now),
        "silence": silence,
        "open_until": opened[1] if opened else None,
        "reach": reach(silence),
        "limit": PREVIEW_LIMIT,
        "title": f"Silence #{silence.pk}",
        **abilities(request),
    }
    return render(request, "console/silence.html", context)


@viewer
def silence_new(request: HttpRequest) -> HttpResponse:
    """GET: the empty form (or prefilled from ?matchers=). POST: preview, or save."""
    if request.method == "POST":
        require(request, ADD_SILENCE)
        form = SilenceForm.from_post(request.POST)
    else:
        form = SilenceForm(matchers=request.GET.get("matchers", "").strip()[:2000])
    context = {"form": form, "title": "New silence", **abilities(request)}
    if request.method == "POST" or form.matchers:
        try:
            matched = preview(form.matchers)
            context["preview"] = matched
            if request.method == "POST" and "save" in request.POST:
                silence = form.save(request.user.get_username())
                shown = one_line(", ".join(str(m) for m in silences.matchers_of(silence)), 200)
                count = len(matched)
                messages.success(
                    request,
                    f"Silence #{silence.pk} added by {silence.created_by}: {shown} "
                    f"({count} firing alert(s) match now).",
                )
                return redirect("console:silence", silence_id=silence.pk)
        except silences.SilenceError as exc:
            context["error"] = one_line(str(exc), 300)
    context["limit"] = PREVIEW_LIMIT
    # A typo answers 200 with the form and its error, as Django forms do (a 4xx would log as a
    # failed resource in the browser console and as a warning on the server).
    return render(request, "console/silence_new.html", context)


@require_POST
@viewer
def silence_expire(request: HttpRequest, silence_id: int) -> HttpResponse:
    get_silence(silence_id)
    require(request, EXPIRE_SILENCE)
    try:
        silence = silences.expire(silence_id, by=request.user.get_username())
        messages.success(request, f"Silence #{silence.pk} expired by {silence.expired_by}.")
    except silences.SilenceError as exc:
        messages.error(request, str(exc))
    return redirect("console:silence", silence_id=silence_id)


@viewer
def inhibition_list(request: HttpRequest) -> HttpResponse:
    context = {"rows": rule_rows(), "title": "Inhibition rules", **abilities(request)}
    return render(request, "console/inhibitions.html", context)
