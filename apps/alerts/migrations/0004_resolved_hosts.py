"""Hosts stored before host resolution (`web-07:9100`) become resolved names (`web-07`), in the
alert and incident rows and in readable group keys; an active incident whose new key another
active incident already holds keeps its old key (the one-active-per-group rule stands)."""

from django.db import migrations


def resolve_hosts(apps, schema_editor):
    from apps.alerts.hosts import host_name

    Alert = apps.get_model("alerts", "Alert")
    Incident = apps.get_model("alerts", "Incident")

    def renamed(rows):
        for row in rows.exclude(host="").iterator(chunk_size=2000):
            new = host_name(row.host)
            if new and new != row.host:
                yield row, new

    for alert, new in renamed(Alert.objects.only("pk", "host", "group_key")):
        alert.group_key = alert.group_key.replace(f"host={alert.host}", f"host={new}")
        alert.host = new
        alert.save(update_fields=["host", "group_key"])
    active = set(
        Incident.objects.filter(status__in=["open", "acknowledged"]).values_list(
            "group_key", flat=True
        )
    )
    for incident, new in renamed(Incident.objects.only("pk", "host", "group_key", "status")):
        key = incident.group_key.replace(f"host={incident.host}", f"host={new}")
        if incident.status in ("open", "acknowledged") and key != incident.group_key:
            if key in active:
                key = incident.group_key
            else:
                active.discard(incident.group_key)
                active.add(key)
        incident.host, incident.group_key = new, key
        incident.save(update_fields=["host", "group_key"])


class Migration(migrations.Migration):
    dependencies = [("alerts", "0003_alert_group_reason")]

    operations = [migrations.RunPython(resolve_hosts, migrations.RunPython.noop)]
