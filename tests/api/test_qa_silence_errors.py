"""QA of issue 16: the API's silence errors name its own fields (duration, ends_at, every,
tz), never the command's flags."""

import pytest

from apps.alerts.models import Silence

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"duration": None}, "give exactly one of duration and ends_at"),
        ({"duration": "1h", "ends_at": "2030-01-01T00:00:00Z"}, "exactly one of duration"),
        ({"every": "0 2 * * SUN", "duration": None}, "a recurring silence (every) needs duration"),
        ({"tz": "Europe/Berlin"}, "tz only applies with every"),
        ({"every": "0 2 30 2 *"}, "never fires"),
        # was: an empty `every` made a one-off silence active at once; a huge duration a 500
        ({"every": ""}, "every is empty"),
        ({"every": "0 2 * * SUN", "tz": " "}, "tz is empty"),
        ({"duration": ""}, "duration is empty"),
        ({"duration": "99999999999h"}, "longer than 100 years"),
    ],
)
def test_api_errors_name_the_api_fields(make_client, change, message):
    body = {"matchers": ["host=web-07"], "comment": "c", "duration": "2h"} | change
    response = make_client("write").post("/api/silences", body)
    assert response.status_code == 422
    text = response.json()["message"]
    assert message in text and "--" not in text
    assert not Silence.objects.exists()
