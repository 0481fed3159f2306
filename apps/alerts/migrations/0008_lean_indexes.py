"""The group key's index becomes a Meta index, without PostgreSQL's LIKE twin.

Not an AlterField: removing db_index makes Django drop every single-column index on group_key
it finds, and on PostgreSQL that includes the partial unique index behind
one_active_incident_per_group (found by the storm bench: two open incidents for one key). Here
only the two indexes db_index made are dropped, by name."""

from django.db import migrations, models

OLD_INDEXES = ("alerts_incident_group_key_6bebfc54_like", "alerts_incident_group_key_6bebfc54")


def lean(apps, schema_editor):
    quote = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        present = schema_editor.connection.introspection.get_constraints(cursor, "alerts_incident")
    for name in OLD_INDEXES:
        if name in present:
            schema_editor.execute(f"DROP INDEX {quote(name)}")
    if "incident_group_key" not in present:
        schema_editor.execute(
            f"CREATE INDEX {quote('incident_group_key')} ON {quote('alerts_incident')} "
            f"({quote('group_key')})"
        )


def back(apps, schema_editor):
    quote = schema_editor.quote_name
    schema_editor.execute(f"DROP INDEX IF EXISTS {quote('incident_group_key')}")
    schema_editor.execute(
        f"CREATE INDEX {quote(OLD_INDEXES[1])} ON {quote('alerts_incident')} ({quote('group_key')})"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0007_silence_expired_by"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="incident",
                    name="group_key",
                    field=models.CharField(max_length=200),
                ),
                migrations.AddIndex(
                    model_name="incident",
                    index=models.Index(fields=["group_key"], name="incident_group_key"),
                ),
            ],
            database_operations=[migrations.RunPython(lean, back)],
        ),
    ]
