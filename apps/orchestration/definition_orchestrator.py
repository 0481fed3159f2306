"""DefinitionBasedOrchestrator: validate and execute a PipelineDefinition (saved or not)."""

import uuid
from functools import cached_property
from typing import Any

from .definition import validate_definition
from .engine import Engine
from .models import PipelineDefinition, PipelineRun, RunStatus
from .records import run_input
from .secrets import seal_definition
from .spec import Plan, Problem, build_plan


def new_trace_id() -> str:
    return uuid.uuid4().hex


class DefinitionInvalid(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("Pipeline definition invalid")
        self.problems = problems


class DefinitionInactive(Exception):
    pass


def require_active(definition: PipelineDefinition) -> None:
    """The one inactive-definition rule: a stored, deactivated definition does not run."""
    if definition.pk is not None and not definition.is_active:
        raise DefinitionInactive(f"Pipeline definition is inactive: {definition.name}")


class DefinitionBasedOrchestrator:
    kind = "definition"

    def __init__(self, definition: PipelineDefinition, config_path: str | None = None):
        self.definition = definition
        self.config_path = config_path or ""
        self._problems: list[Problem] | None = None
        self._plan: Plan | None = None

    @cached_property
    def sealed_config(self) -> dict:
        """The config as a run records it, secrets sealed; once for every run it starts."""
        return seal_definition(self.definition.config)

    @property
    def label(self) -> str:
        return self.config_path or self.definition.name

    def problems(self) -> list[Problem]:
        if self._problems is None:
            self._problems = validate_definition(self.definition.config)
        return self._problems

    def validate(self) -> list[str]:
        """Every problem of the definition, one message each; never raises."""
        return [problem.message for problem in self.problems()]

    @property
    def plan(self) -> Plan:
        if self._plan is None:
            if self.problems():
                raise DefinitionInvalid(self.problems())
            self._plan = build_plan(self.definition.config)
        return self._plan

    def new_run(self, payload: Any, **fields: Any) -> PipelineRun:
        """An unsaved run of this definition; `fields` as run_row() takes them."""
        row = self.run_row(payload, **fields)
        run = PipelineRun(**row)
        if row["definition_id"] is not None:
            run.definition = self.definition
        if fields.get("incident") is not None:
            run.incident = fields["incident"]
        return run

    def run_row(
        self,
        payload: Any,
        *,
        source: str,
        trace_id: str | None,
        environment: str,
        status: str = RunStatus.RUNNING,
        incident: Any = None,
        stored_payload: Any = None,
    ) -> dict[str, Any]:
        """new_run()'s fields by attname, for rows.insert_values (runs made by the hundred: a
        model instance each costs more than the row's share of the INSERT)."""
        saved = self.definition.pk is not None
        return {
            "definition_id": self.definition.pk if saved else None,
            "definition_name": "" if self.config_path else self.definition.name,
            "definition_version": self.definition.version if saved else None,
            "config_path": self.config_path,
            # sealed here too: a --config file's definition is never saved itself
            "config_snapshot": self.sealed_config,
            "kind": "config" if self.config_path else self.kind,
            "trace_id": trace_id or new_trace_id(),
            "source": source,
            "environment": environment,
            "status": status,
            "payload": stored_payload if stored_payload is not None else run_input(payload),
            "incident_id": incident.pk if incident is not None else None,
        }

    def execute(
        self,
        payload: Any,
        source: str = "cli",
        trace_id: str | None = None,
        environment: str = "development",
    ) -> dict:
        """Run the definition on payload; returns the run's result (the --json shape)."""
        require_active(self.definition)
        plan = self.plan
        run = self.new_run(payload, source=source, trace_id=trace_id, environment=environment)
        return Engine(plan, self.label).execute(run, payload)
