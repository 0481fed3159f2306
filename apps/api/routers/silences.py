"""/api/silences: list (scope read), add and expire (scope write). Same rules as the command."""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from apps.alerts import silences
from apps.alerts.models import Silence
from apps.api.auth import READ, WRITE
from apps.api.errors import ApiError, not_found
from apps.api.schemas import ErrorOut

router = Router(tags=["silences"])
ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422)}


class SilenceIn(Schema):
    matchers: list[str] = Field(
        ...,
        description='Alertmanager matchers, ANDed: ["alertname=DiskFull", "host=~web-0.*"]',
        json_schema_extra={"minItems": 1},  # the server says why an empty list is refused
    )
    comment: str = Field(..., max_length=2000)
    duration: str | None = Field(None, description="2h, 90m, 1h30m (of each window with every)")
    ends_at: datetime | None = Field(None, description="End (ISO 8601 with a zone).")
    starts_at: datetime | None = None
    every: str | None = Field(None, description='Cron schedule of a window: "0 2 * * SUN".')
    tz: str = Field("UTC", description="Time zone of `every`.")
    created_by: str = Field("", max_length=150)


@router.get("", auth=READ, response={200: list[dict[str, Any]], **ERRORS})
def list_silences(request: HttpRequest, all: bool = Query(False)):  # noqa: A002 - the API word
    """Current and future silences (with `all`, ended and expired ones too), newest first."""
    return [silences.as_dict(s) for s in silences.listed(include_ended=all)]


@router.get("/{silence_id}", auth=READ, response={200: dict[str, Any], **ERRORS})
def get_silence(request: HttpRequest, silence_id: int):
    silence = Silence.objects.filter(pk=silence_id).first()
    if silence is None:
        raise not_found("silence", silence_id)
    return silences.as_dict(silence)


@router.post("", auth=WRITE, response={201: dict[str, Any], **ERRORS})
def add_silence(request: HttpRequest, body: SilenceIn):
    """Add a silence, or a maintenance window with `every` + `duration` + `tz`."""
    for when in (body.ends_at, body.starts_at):
        if when is not None and when.tzinfo is None:
            raise ApiError(422, "invalid_silence", "times need a zone (add Z or +01:00)")
    try:
        silence = silences.create(
            body.matchers,
            comment=body.comment,
            created_by=body.created_by or getattr(request.auth, "name", ""),
            duration=body.duration,
            until=body.ends_at,
            starts_at=body.starts_at,
            every=body.every,
            tz=body.tz if "tz" in body.model_fields_set else None,  # given, not defaulted
            names=silences.API_NAMES,
        )
    except silences.SilenceError as exc:
        raise ApiError(422, "invalid_silence", str(exc)) from None
    return Status(201, silences.as_dict(silence))


@router.delete("/{silence_id}", auth=WRITE, response={200: dict[str, Any], **ERRORS})
def expire_silence(request: HttpRequest, silence_id: int):
    """Expire a silence now (the row is kept: its history stays)."""
    if not Silence.objects.filter(pk=silence_id).exists():
        raise not_found("silence", silence_id)
    try:
        silence = silences.expire(silence_id, by=getattr(request.auth, "name", ""))
    except silences.SilenceError as exc:
        raise ApiError(409, "already_ended", str(exc)) from None
    return silences.as_dict(silence)
