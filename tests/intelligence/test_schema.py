"""The output shape and the repair of near-miss LLM answers."""

import json

import pytest

from apps.intelligence.errors import ProviderError
from apps.intelligence.schema import parse_answer

GOOD = {
    "summary": "web-01 is out of disk space on /var.",
    "probable_cause": "Log growth.",
    "severity_assessment": "critical",
    "confidence": 0.8,
    "recommendations": [
        {"title": "Rotate logs", "detail": "journalctl --vacuum-size=200M", "priority": "high"}
    ],
    "evidence": ["check disk: critical"],
}


def test_valid_answer_parses():
    answer = parse_answer(json.dumps(GOOD))
    assert answer.severity_assessment == "critical"
    assert answer.recommendations[0].commands == []


@pytest.mark.parametrize(
    "text",
    [
        "```json\n" + json.dumps(GOOD) + "\n```",
        "```\n" + json.dumps(GOOD, indent=2) + "\n```",
        "Here is the analysis:\n" + json.dumps(GOOD) + "\nHope this helps.",
        json.dumps([GOOD]),
    ],
    ids=["json-fence", "bare-fence", "prose-around", "list-of-one"],
)
def test_trivial_wrapping_is_repaired(text):
    assert parse_answer(text).summary == GOOD["summary"]


def test_single_objects_and_strings_where_lists_belong_are_repaired():
    answer = parse_answer(
        json.dumps(
            {
                **GOOD,
                "recommendations": {
                    "title": "Rotate logs",
                    "priority": "HIGH",
                    "commands": "logrotate -f /etc/logrotate.conf",
                },
                "evidence": "disk check critical",
                "severity_assessment": "Critical",
            }
        )
    )
    assert [r.title for r in answer.recommendations] == ["Rotate logs"]
    assert answer.recommendations[0].priority == "high"
    assert answer.recommendations[0].commands == ["logrotate -f /etc/logrotate.conf"]
    assert answer.evidence == ["disk check critical"]
    assert answer.severity_assessment == "critical"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "answer was empty"),
        ("The disk is full, delete logs.", "answer is not JSON"),
        ("[1, 2]", "answer is JSON list, not an object"),
        (json.dumps({**GOOD, "confidence": 7}), "confidence"),
        (json.dumps({**GOOD, "severity_assessment": "apocalyptic"}), "severity_assessment"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "summary"}), "summary"),
        (
            json.dumps({**GOOD, "recommendations": [{"detail": "no title"}]}),
            "recommendations.0.title",
        ),
    ],
)
def test_unfixable_answers_are_provider_errors(text, message):
    with pytest.raises(ProviderError) as info:
        parse_answer(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
