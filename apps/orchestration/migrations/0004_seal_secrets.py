"""Seal the inline notify secrets that definitions, their revisions and runs' snapshots stored in
clear before secrets were sealed (apps.orchestration.secrets); a no-op when there are none."""

from django.db import migrations

BATCH = 500


def seal_stored(apps, schema_editor):
    from apps.orchestration.secrets import seal_definition

    for model, field in (
        ("PipelineDefinition", "config"),
        ("PipelineDefinitionRevision", "config"),
        ("PipelineRun", "config_snapshot"),
    ):
        rows = apps.get_model("orchestration", model).objects.only("pk", field)
        changed = []
        for row in rows.iterator(chunk_size=BATCH):
            stored = getattr(row, field)
            sealed = seal_definition(stored)
            if sealed != stored:
                setattr(row, field, sealed)
                changed.append(row)
            if len(changed) >= BATCH:
                type(row).objects.bulk_update(changed, [field])
                changed = []
        if changed:
            type(changed[0]).objects.bulk_update(changed, [field])


class Migration(migrations.Migration):
    dependencies = [("orchestration", "0003_run_failed_nodes")]

    operations = [migrations.RunPython(seal_stored, migrations.RunPython.noop, elidable=True)]
