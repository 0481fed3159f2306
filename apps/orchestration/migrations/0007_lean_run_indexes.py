"""Two indexes every run paid for and few queries use.

- A node record's own index on run_id: stage_per_node (run_id, node_id) already serves every
  lookup by run.
- The index on replay_of_id becomes partial (replays only): almost every run has none, and a
  lookup of a run's replays (replay_of_id = X, or IN (...) when runs are pruned) implies
  IS NOT NULL, which both databases use the partial index for.

The state changes as AlterField would have it; the database drops only the indexes db_index
made (found by introspection: a single-column, non-unique index on the column), so no table is
rebuilt on SQLite and no other index on the column is touched."""

from django.db import migrations, models

FK_INDEXES = (
    ("orchestration_stageexecution", "run_id"),
    ("orchestration_pipelinerun", "replay_of_id"),
)


def fk_index_names(schema_editor, table: str, column: str) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        found = schema_editor.connection.introspection.get_constraints(cursor, table)
    return [
        name
        for name, info in found.items()
        if info["columns"] == [column]
        and info["index"]
        and not info["unique"]
        and not info["primary_key"]
        and name.startswith(f"{table}_{column}")  # the name Django gives a db_index index
    ]


def drop_fk_indexes(apps, schema_editor):
    quote = schema_editor.quote_name
    for table, column in FK_INDEXES:
        for name in fk_index_names(schema_editor, table, column):
            schema_editor.execute(f"DROP INDEX {quote(name)}")


def restore_fk_indexes(apps, schema_editor):
    quote = schema_editor.quote_name
    for table, column in FK_INDEXES:
        if not fk_index_names(schema_editor, table, column):
            name = f"{table}_{column}_restored"
            schema_editor.execute(
                f"CREATE INDEX {quote(name)} ON {quote(table)} ({quote(column)})"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("orchestration", "0006_lean_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="stageexecution",
                    name="run",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.CASCADE,
                        related_name="stages",
                        to="orchestration.pipelinerun",
                    ),
                ),
                migrations.AlterField(
                    model_name="pipelinerun",
                    name="replay_of",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=models.deletion.SET_NULL,
                        related_name="replays",
                        to="orchestration.pipelinerun",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_fk_indexes, restore_fk_indexes)],
        ),
        migrations.AddIndex(
            model_name="pipelinerun",
            index=models.Index(
                condition=models.Q(("replay_of__isnull", False)),
                fields=["replay_of"],
                name="run_replay_of",
            ),
        ),
    ]
