"""What a node handler gets and gives. Handlers are thin adapters over the apps' services."""

from dataclasses import dataclass, field
from typing import Any, ClassVar


class NodeFailed(Exception):
    """A node ran and failed; output (if any) is still recorded."""

    def __init__(self, message: str, output: dict | None = None, retryable: bool = True):
        super().__init__(message)
        self.output = output
        self.retryable = retryable


class NodeSkipped(Exception):
    """A node decided not to act (e.g. a silenced page); recorded SKIPPED with the reason."""

    def __init__(self, reason: str, output: dict | None = None):
        super().__init__(reason)
        self.output = output


@dataclass
class NodeContext:
    node_id: str
    node_type: str
    payload: Any
    run: Any  # PipelineRun
    trace_id: str
    source: str
    environment: str
    definition_label: str
    outputs: dict[str, Any]
    statuses: dict[str, str]
    node_types: dict[str, str]
    state: dict[str, Any] = field(default_factory=dict)  # shared: incident, ingest result
    deadline: float | None = None
    attempt: int = 1

    @property
    def incident(self) -> Any:
        return self.state.get("incident")

    def latest_output(self, node_type: str) -> Any:
        """Output of the most recent succeeded node of a type, or None."""
        found = None
        for node_id, status in self.statuses.items():
            if status == "SUCCEEDED" and self.node_types.get(node_id) == node_type:
                found = self.outputs.get(node_id)
        return found


class NodeHandler:
    type_name: ClassVar[str] = ""
    # Side-effecting nodes (notify, LLM calls, writes) are not run by a dry-run.
    side_effects: ClassVar[bool] = True
    # True when the handler renders the templates in its own config (the engine then doesn't).
    renders_own_templates: ClassVar[bool] = False

    def validate_config(self, config: dict, known_nodes: set[str]) -> list[str]:
        return []

    def run(self, ctx: NodeContext, config: dict) -> dict:
        raise NotImplementedError
