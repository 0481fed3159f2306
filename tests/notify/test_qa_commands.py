"""Bad input to deliveries: a one-line CommandError, nothing re-sent or lost."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.notify import services
from apps.notify.models import Delivery

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, no_color=True)
    return out.getvalue()


@pytest.mark.parametrize("limit", ["0", "-1", "100001", "99999999999999999999"])
def test_deliveries_limit_out_of_range_is_an_error(limit):
    with pytest.raises(CommandError, match=r"^--limit must be between 1 and 100000$"):
        run("deliveries", "--limit", limit)


@pytest.mark.parametrize("raw_id", ["٣", "１", "99999999999999999999", "", "1.0"])
def test_deliveries_retry_takes_ascii_ids_only(raw_id, make_context, settings, http_sink):
    """'٣' is str.isdigit() and int() reads it as 3: it must not re-send delivery 3."""
    settings.NOTIFY_MAX_ATTEMPTS = 1
    http_sink.respond(503, "down")
    for _ in range(3):
        services.notify(
            config={"driver": "generic", "url": http_sink.url}, message_context=make_context()
        )
    sent = len(http_sink.requests)
    with pytest.raises(CommandError, match="--retry takes a delivery id"):
        run("deliveries", "--retry", raw_id)
    assert len(http_sink.requests) == sent
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}
