"""The engine's prepared writes store what the ORM would, in a bounded number of statements."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.orchestration import rows
from apps.orchestration.definition_orchestrator import DefinitionBasedOrchestrator
from apps.orchestration.models import PipelineDefinition, PipelineRun, StageExecution

pytestmark = pytest.mark.django_db

THREE_TRANSFORMS = {
    "nodes": [
        {"id": "pick", "type": "transform",
         "config": {"mapping": {"server": "payload.server"}}, "next": "enrich"},
        {"id": "enrich", "type": "transform",
         "config": {"mapping": {"host": "nodes.pick.output.server"}}, "next": "summarise"},
        {"id": "summarise", "type": "transform",
         "config": {"mapping": {"line": "{{ nodes.enrich.output.host }} ünïcode"}}},
    ]
}  # fmt: skip


def test_a_run_of_three_nodes_is_five_statements(django_assert_max_num_queries):
    definition = PipelineDefinition.objects.create(name="three", config=THREE_TRANSFORMS)
    orchestrator = DefinitionBasedOrchestrator(definition)
    orchestrator.execute({"server": "web-01"})  # warm: the plan is built once
    # INSERT the run; then one transaction: INSERT the three records, UPDATE the run.
    with django_assert_max_num_queries(5):
        result = orchestrator.execute({"server": "web-02", "api_token": "s3cr3t-value"})
    assert result["status"] == "COMPLETED"
    run = PipelineRun.objects.get(pk=result["run_id"])
    assert run.payload == {"server": "web-02", "api_token": "***"}
    assert run.definition_id == definition.pk and run.definition_version == 1
    assert run.config_snapshot == THREE_TRANSFORMS
    assert run.finished_at >= run.started_at and run.duration_ms >= 0
    stages = list(run.stages.order_by("position"))
    assert [s.node_id for s in stages] == ["pick", "enrich", "summarise"]
    assert [s.position for s in stages] == [0, 1, 2]
    assert stages[2].output == {"line": "web-02 ünïcode"}
    assert result["nodes"][2]["output"] == {"line": "web-02 ünïcode"}
    assert all(s.status == "SUCCEEDED" and s.attempts == 1 for s in stages)
    assert stages[0].attempt_log[0]["status"] == "SUCCEEDED"
    assert stages[0].started_at.tzinfo is not None


def test_prepared_rows_read_back_as_the_orm_writes_them():
    when = timezone.now() - timedelta(hours=3)
    made = PipelineRun(trace_id="t" * 32, payload={"é": [1, None, True]}, started_at=when)
    rows.insert([made])
    by_orm = PipelineRun.objects.create(
        trace_id="t" * 32, payload={"é": [1, None, True]}, started_at=when
    )
    assert made.pk and made._state.adding is False
    fields = [f.attname for f in PipelineRun._meta.concrete_fields if not f.primary_key]
    stored = PipelineRun.objects.values(*fields).get(pk=made.pk)
    expected = PipelineRun.objects.values(*fields).get(pk=by_orm.pk)
    assert {k: v for k, v in stored.items() if k != "created_at"} == {
        k: v for k, v in expected.items() if k != "created_at"
    }
    assert stored["started_at"] == when
    made.status, made.error = "FAILED", "node 'x' failed"
    rows.update(made, ("status", "error"))
    assert PipelineRun.objects.values_list("status", "error").get(pk=made.pk) == (
        "FAILED",
        "node 'x' failed",
    )


def test_records_left_out_take_the_field_defaults():
    run = PipelineRun.objects.create(trace_id="d" * 32)
    (pk,) = rows.insert_values(StageExecution, [{"run_id": run.pk, "node_id": "only"}])
    stage = StageExecution.objects.get(pk=pk)
    assert (stage.status, stage.attempts, stage.attempt_log, stage.output) == (
        "PENDING", 0, [], None,
    )  # fmt: skip
