"""PipelineOrchestrator: the fixed pipeline (ingest -> check -> analyze -> notify) on the engine."""

from typing import Any

from django.conf import settings

from .definition_orchestrator import DefinitionBasedOrchestrator
from .models import PipelineDefinition

STANDARD_NAME = "standard"
STAGE_TITLES = {"ingest": "INGEST", "check": "CHECK", "analyze": "ANALYZE", "notify": "NOTIFY"}


def standard_config(notify_driver: str = "console", checks_only: bool = False) -> dict[str, Any]:
    """The four stages; with checks_only, all but `check` are disabled (recorded as SKIPPED)."""
    off = {"enabled": False} if checks_only else {}
    return {
        "version": "1",
        "description": "Built-in pipeline, checks only"
        if checks_only
        else "Built-in standard pipeline",
        "nodes": [
            {"id": "ingest", "type": "ingest", "config": {}, "next": "check", **off},
            {"id": "check", "type": "context", "config": {}, "next": "analyze"},
            {
                "id": "analyze",
                "type": "intelligence",
                "config": {"provider": settings.INTELLIGENCE_DEFAULT_PROVIDER},
                "next": "notify",
                **off,
            },
            {"id": "notify", "type": "notify", "config": {"driver": notify_driver}, **off},
        ],
    }


def standard_definition(
    notify_driver: str = "console", checks_only: bool = False
) -> PipelineDefinition:
    return PipelineDefinition(
        name=STANDARD_NAME,
        description="Built-in standard pipeline",
        config=standard_config(notify_driver, checks_only),
    )


class PipelineOrchestrator:
    """The built-in pipeline; same engine, its own display."""

    def __init__(self, notify_driver: str = "console", checks_only: bool = False):
        self.inner = DefinitionBasedOrchestrator(standard_definition(notify_driver, checks_only))
        self.inner.kind = "fixed"

    @property
    def definition(self) -> PipelineDefinition:
        return self.inner.definition

    def validate(self) -> list[str]:
        return self.inner.validate()

    def run_pipeline(
        self,
        payload: Any,
        source: str = "cli",
        trace_id: str | None = None,
        environment: str = "development",
    ) -> dict:
        return self.inner.execute(
            payload, source=source, trace_id=trace_id, environment=environment
        )
