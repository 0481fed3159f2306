"""A huge alert field shortens the local analysis; it must not fail the analysis."""

import pytest

from apps.intelligence.schema import Answer, fit_limits
from apps.intelligence.services import analyze


@pytest.mark.django_db
def test_local_analysis_of_a_huge_host_name_fits_the_schema():
    host = "web-" + "x" * 100_000
    output = analyze(payload={"server": host}, config={"provider": "local"})
    assert output["provider"] == "local"
    assert 0 < len(output["summary"]) <= 4000
    assert output["summary"].startswith("web-xxx")


def test_fit_limits_clips_every_limited_field():
    long = "y" * 10_000
    answer = {
        "summary": long,
        "probable_cause": long,
        "severity_assessment": "warning",
        "confidence": 0.5,
        "recommendations": [{"title": long, "detail": long, "commands": ["ls"] * 30}] * 25,
        "evidence": [long] * 60,
    }
    fitted = Answer.model_validate(fit_limits(answer))
    assert len(fitted.summary) == 4000 and fitted.summary.endswith("…")
    assert len(fitted.probable_cause) == 2000
    assert len(fitted.recommendations) == 20
    assert len(fitted.recommendations[0].title) == 300
    assert len(fitted.recommendations[0].commands) == 20
    assert len(fitted.evidence) == 50
    short = {**answer, "summary": "ok", "recommendations": [], "evidence": []}
    assert fit_limits(short)["summary"] == "ok"
