"""alert_identity becomes (fingerprint, source): see Alert.Meta. The same rows are unique."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0008_lean_indexes"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="alert", name="alert_identity"),
        migrations.AddConstraint(
            model_name="alert",
            constraint=models.UniqueConstraint(
                fields=("fingerprint", "source"), name="alert_identity"
            ),
        ),
    ]
