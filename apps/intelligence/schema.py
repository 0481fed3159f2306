"""The one analysis shape, validated with pydantic, and the repair of near-miss LLM answers."""

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from apps.common.text import one_line

from .errors import ProviderError

FENCE_RE = re.compile(r"^\s*```[a-zA-Z0-9_-]*\s*\n?(?P<body>.*?)\n?\s*```\s*$", re.S)


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


class Recommendation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str = Field(min_length=1, max_length=300)
    detail: str = Field(default="", max_length=4000)
    priority: Literal["low", "medium", "high", "critical"] = "medium"
    commands: list[str] = Field(default_factory=list, max_length=20)

    _lower_priority = field_validator("priority", mode="before")(_lower)

    @field_validator("commands", mode="before")
    @classmethod
    def _commands_list(cls, value: Any) -> Any:
        if value is None:
            return []
        return [value] if isinstance(value, str) else value


class Answer(BaseModel):
    """What a provider must produce; services add provider, model, tokens and timing."""

    model_config = ConfigDict(extra="ignore")

    summary: str = Field(min_length=1, max_length=4000)
    probable_cause: str = Field(default="", max_length=2000)
    severity_assessment: Literal["critical", "warning", "info", "ok"]
    confidence: float = Field(ge=0, le=1)
    recommendations: list[Recommendation] = Field(default_factory=list, max_length=20)
    evidence: list[str] = Field(default_factory=list, max_length=50)

    _lower_severity = field_validator("severity_assessment", mode="before")(_lower)

    @field_validator("recommendations", "evidence", mode="before")
    @classmethod
    def _single_to_list(cls, value: Any) -> Any:
        # A lone object or string where a list belongs is the commonest LLM slip.
        if value is None:
            return []
        return [value] if isinstance(value, dict | str) else value


def _clip(text: Any, limit: int) -> Any:
    if not isinstance(text, str) or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def fit_limits(answer: dict[str, Any]) -> dict[str, Any]:
    """Shorten an answer built from alert text to the schema's limits.

    The local analyser quotes alert fields (host, name, description) verbatim; one huge field
    must shorten its answer, not fail the analysis.
    """
    fitted = dict(answer)
    fitted["summary"] = _clip(answer.get("summary"), 4000)
    fitted["probable_cause"] = _clip(answer.get("probable_cause"), 2000)
    fitted["evidence"] = [_clip(line, 4000) for line in (answer.get("evidence") or [])[:50]]
    recommendations = []
    for rec in (answer.get("recommendations") or [])[:20]:
        rec = dict(rec)
        rec["title"] = _clip(rec.get("title"), 300)
        rec["detail"] = _clip(rec.get("detail", ""), 4000)
        rec["commands"] = list(rec.get("commands") or [])[:20]
        recommendations.append(rec)
    fitted["recommendations"] = recommendations
    return fitted


def _loads(text: str) -> Any:
    stripped = text.strip()
    fenced = FENCE_RE.match(stripped)
    if fenced:
        stripped = fenced["body"].strip()
    try:
        return json.loads(stripped)
    except ValueError:
        pass
    start, end = stripped.find("{"), stripped.rfind("}")
    if start != -1 and end > start:
        try:
            return json.loads(stripped[start : end + 1])
        except ValueError:
            pass
    raise ProviderError(f"answer is not JSON: {one_line(text, 80)!r}")


def parse_answer(text: str) -> Answer:
    """Parse an LLM reply into an Answer, repairing code fences and lone objects.

    Raises ProviderError (one line) when the reply cannot be made to fit.
    """
    if not text or not text.strip():
        raise ProviderError("answer was empty")
    data = _loads(text)
    if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
        data = data[0]
    if not isinstance(data, dict):
        raise ProviderError(f"answer is JSON {type(data).__name__}, not an object")
    try:
        return Answer.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "answer"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ProviderError(
            f"answer does not fit the schema: {where}: {first['msg']}{more}"
        ) from None
