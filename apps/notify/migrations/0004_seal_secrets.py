"""Seal the inline secrets channels stored in clear before secrets were sealed
(apps.notify.sealing); deliveries never stored them (they kept a redaction mark)."""

from django.db import migrations


def seal_channels(apps, schema_editor):
    from apps.notify.sealing import seal_config

    for channel in apps.get_model("notify", "NotificationChannel").objects.all():
        sealed = seal_config(channel.config)
        if sealed != channel.config:
            channel.config = sealed
            channel.save(update_fields=["config"])


class Migration(migrations.Migration):
    dependencies = [("notify", "0003_silences_and_groups")]

    operations = [migrations.RunPython(seal_channels, migrations.RunPython.noop, elidable=True)]
