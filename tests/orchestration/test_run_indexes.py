"""The runs' and node records' indexes: no index of its own on a node record's run (the unique
(run, node_id) serves it), a partial index on replays, and lookups still use an index."""

import pytest
from django.db import connection

from apps.orchestration.models import PipelineRun, StageExecution

pytestmark = pytest.mark.django_db


def indexes(table: str) -> dict[str, dict]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return {name: info for name, info in found.items() if info["index"] or info["unique"]}


def plan(sql: str, params: list) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return " ".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        text = " ".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
        return text


def test_a_node_records_run_has_no_index_of_its_own_and_stage_lookups_use_the_unique_one():
    stage_table = StageExecution._meta.db_table
    on_run = [info["columns"] for info in indexes(stage_table).values()
              if info["columns"] and info["columns"][0] == "run_id"]  # fmt: skip
    assert on_run == [["run_id", "node_id"]]
    text = plan(f'SELECT id FROM "{stage_table}" WHERE run_id = %s', [1])
    assert "INDEX" in text.upper() and "SCAN orchestration" not in text, text


def test_replays_have_a_partial_index_that_serves_a_runs_replays():
    run_table = PipelineRun._meta.db_table
    found = indexes(run_table)
    on_replay = [name for name, info in found.items() if info["columns"] == ["replay_of_id"]]
    assert on_replay == ["run_replay_of"]
    for sql in (f'SELECT id FROM "{run_table}" WHERE replay_of_id = %s',
                f'SELECT id FROM "{run_table}" WHERE replay_of_id IN (%s, %s)'):  # fmt: skip
        params = [1] if "IN" not in sql else [1, 2]
        assert "run_replay_of" in plan(sql, params), sql


def test_pruning_a_replayed_run_unlinks_its_replay():
    first = PipelineRun.objects.create(trace_id="t1", status="COMPLETED")
    replay = PipelineRun.objects.create(trace_id="t2", status="COMPLETED", replay_of=first)
    first.delete()
    replay.refresh_from_db()
    assert replay.replay_of_id is None
