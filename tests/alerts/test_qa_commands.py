"""Bad input to create_api_key and route_test: a one-line CommandError, nothing stored."""

import io

import pytest
from django.core.management import CommandError, call_command

from apps.common.models import ApiKey
from tests.conftest import PAYLOADS

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), no_color=True)
    return out.getvalue()


@pytest.mark.parametrize("name", ["a\x00b", "tab\there", "line\nbreak", "bell\x07"])
def test_create_api_key_refuses_control_characters(name):
    # PostgreSQL cannot store NUL at all; the others make the name unreadable in listings.
    with pytest.raises(CommandError, match="NAME must not contain control characters"):
        run("create_api_key", name)
    assert ApiKey.objects.count() == 0


def test_create_api_key_accepts_unicode_names():
    run("create_api_key", "grafana-🔥-שלום")
    assert ApiKey.objects.get().name == "grafana-🔥-שלום"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--file", ""], r"^--file is empty \(give a path, or - for standard input\)$"),
        (["--file", "DIR"], r"^cannot read \S+: it is a directory$"),
        (["--file", "NAN"], r"is not valid JSON: NaN is not a JSON value"),
        (["--file", "NUL"], r"is not valid JSON: JSON string at /name contains a NUL"),
        (["--file", "DEEP"], r"is not valid JSON: JSON is nested too deeply$"),
        (["--file", "AM", "--source", ""], r"^--source is empty; leave it out to detect"),
    ],
)
def test_route_test_bad_input(tmp_path, args, message):
    files = {
        "DIR": tmp_path,
        "NAN": tmp_path / "nan.json",
        "NUL": tmp_path / "nul.json",
        "DEEP": tmp_path / "deep.json",
        "AM": PAYLOADS / "alertmanager/v4_firing_two_alerts.json",
    }
    files["NAN"].write_text('{"name": "disk", "value": NaN}')
    files["NUL"].write_text('{"name": "disk\\u0000full"}')
    files["DEEP"].write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CommandError, match=message):
        run("route_test", *[str(files.get(arg, arg)) for arg in args])
