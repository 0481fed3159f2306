"""Request and response bodies of the API (also its OpenAPI schema)."""

from datetime import datetime
from typing import Annotated, Any

from ninja import Schema
from pydantic import ConfigDict, Field, field_validator

NAME_PATTERN = r"^[-a-zA-Z0-9_]+$"
TOKEN_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"


def whole_float_as_int(value: Any) -> Any:
    """JSON Schema counts 5.0 as an integer; so does the API (5.5 and "5" stay refused)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class Strict(Schema):
    # strict: a wrong JSON type is a 422 ("5" or false is no priority, "yes" no is_active).
    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("priority", mode="before", check_fields=False)
    @classmethod
    def whole_numbers(cls, value: Any) -> Any:
        return whole_float_as_int(value)


def run_sources_enum(schema: dict[str, Any]) -> None:
    """The sources a run may name, listed in the document (they are checked by the server)."""
    from apps.orchestration.services import run_sources

    schema["enum"] = run_sources()


def hide_name(schema: dict[str, Any]) -> None:
    """`name` is accepted only when it equals the path's: not offered in the document."""
    schema.get("properties", {}).pop("name", None)


# A date, or a date and time with an optional UTC offset (the days a month always has, so
# that every value the document allows is a real date).
SINCE_PATTERN = (
    r"^(19|20)\d{2}-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])"
    r"([T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)?)?$"
)


# A config is documented as an object; the server takes any JSON and answers what is not a
# definition with a 422 listing its problems (as for every other invalid definition).
OBJECT: dict[str, Any] = {"type": "object"}


class DefinitionIn(Strict):
    name: str = Field(max_length=100, pattern=NAME_PATTERN, description="Unique slug.")
    config: Any = Field(
        description="The pipeline definition: {version, defaults, nodes}.", json_schema_extra=OBJECT
    )
    description: str = ""
    is_active: bool = True
    match: dict[str, Any] | None = Field(None, description="Routing conditions.")
    priority: int = Field(100, ge=-1_000_000, le=1_000_000)


def not_null(schema: dict[str, Any]) -> None:
    """Leave null out of an optional field's OpenAPI schema: update() answers an explicit null
    with a 422, so the schema must not offer it (clients and schemathesis believe it)."""
    options = [option for option in schema.pop("anyOf", []) if option.get("type") != "null"]
    if len(options) == 1:
        schema.update(options[0])


class DefinitionPatch(Strict):
    """PATCH: any subset. PUT uses DefinitionPut, which requires config."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=hide_name)

    name: str | None = Field(
        None, description="Must equal the name in the path if given.", json_schema_extra=not_null
    )
    config: Any = Field(None, json_schema_extra=OBJECT)
    description: str | None = Field(None, json_schema_extra=not_null)
    is_active: bool | None = Field(None, json_schema_extra=not_null)
    match: dict[str, Any] | None = Field(None, description="Routing conditions; null clears.")
    priority: int | None = Field(None, ge=-1_000_000, le=1_000_000, json_schema_extra=not_null)


class DefinitionPut(DefinitionPatch):
    config: Any = Field(description="The new pipeline definition.", json_schema_extra=OBJECT)


class DefinitionOut(Schema):
    name: str
    description: str
    version: int
    is_active: bool
    match: dict[str, Any] | None
    priority: int
    config: Any
    revisions: list[int] = Field(description="Earlier versions kept, oldest first.")
    created_at: datetime
    updated_at: datetime


class DefinitionList(Schema):
    items: list[DefinitionOut]
    count: int


class ProblemOut(Schema):
    code: str
    node: str | None
    path: str = Field(description="JSON pointer into the config.")
    message: str


class ValidateIn(Strict):
    config: Any = Field(None, description="A config to check; absent: the stored one.")


class ValidateOut(Schema):
    valid: bool
    problems: list[ProblemOut]


class RunIn(Strict):
    """Input of execute and dry-run."""

    payload: dict[str, Any] | Annotated[list[dict[str, Any]], Field(min_length=1)] = Field(
        default_factory=dict,
        description="An object, or a non-empty array of alert objects (what run_pipeline takes).",
    )
    source: str = Field(
        "api",
        description="api, cli, webhook, schedule, checks or a vendor.",
        json_schema_extra=run_sources_enum,
    )
    environment: str = Field("production", pattern=TOKEN_PATTERN)
    trace_id: str | None = Field(None, pattern=TOKEN_PATTERN)

    @field_validator("payload", mode="before")
    @classmethod
    def runnable(cls, payload: Any) -> Any:
        """What run_pipeline refuses is refused here too, in its words."""
        from apps.orchestration.services import payload_problem

        if isinstance(payload, list) and (problem := payload_problem(payload)):
            raise ValueError(problem)
        return payload


class AcceptedOut(Schema):
    run_id: int
    trace_id: str
    status: str


class ErrorOut(Schema):
    code: str
    message: str
