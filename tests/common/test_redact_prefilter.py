"""The literal prefilter of redact_text lets through every string a secret pattern matches."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.common.redact import (
    SECRET_VALUE_PATTERNS,
    URL_USERINFO_RE,
    may_hold_secret,
    redact_text,
)

PATTERNS = [URL_USERINFO_RE, *SECRET_VALUE_PATTERNS]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_every_string_a_pattern_matches_passes_the_prefilter(data):
    pattern = data.draw(st.sampled_from(PATTERNS))
    matched = data.draw(st.from_regex(pattern))
    assert pattern.search(matched)
    assert may_hold_secret(matched), matched
    assert redact_text(matched) != matched or len(matched) < 8


def test_ordinary_webhook_strings_skip_the_regex_and_secrets_are_still_redacted():
    for text in ("node-12:9100", "2026-01-01T00:00:00Z", "http://prometheus.example.com/graph"):
        assert not may_hold_secret(text)
    assert redact_text("curl -H 'Authorization: Bearer abcdefgh12345'") == (
        "curl -H 'Authorization: ***'"
    )
    assert redact_text("https://user:hunter2@db.example.com/x") == (
        "https://user:***@db.example.com/x"
    )
    assert "hunter2" not in redact_text("DB_PASSWORD=hunter2 and more")
    assert re.search(r"\*\*\*", redact_text("key AKIAABCDEFGHIJKLMNOP here"))
