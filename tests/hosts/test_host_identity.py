"""One rule for the host an alert is about (apps.alerts.hosts)."""

import pytest

from apps.alerts.hosts import host_name, resolve_host


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("web-07:9100", "web-07"),
        ("web-07", "web-07"),
        ("web-07.example.com.", "web-07.example.com"),
        ("web-07.example.com.:9100", "web-07.example.com"),
        ("[2001:db8::7]:9100", "2001:db8::7"),
        ("[2001:db8::7]", "2001:db8::7"),
        ("2001:db8::7", "2001:db8::7"),
        ("10.0.0.7:9100", "10.0.0.7"),
        ("http://web-07:9100/metrics", "web-07"),
        ("https://user@web-07.example.com/health", "web-07.example.com"),
        ("  db-1  ", "db-1"),
        ("", ""),
        (None, ""),
        (42, ""),
        ("grafana-äöü:80", "grafana-äöü"),
        ("WEB-07.:9100", "web-07"),
        ("[2001:DB8::7]:9100", "2001:db8::7"),
    ],
)
def test_host_name_drops_port_brackets_scheme_and_trailing_dot(raw, name):
    assert host_name(raw) == name


def test_vendor_field_first_then_labels_in_order():
    assert resolve_host("web-07:9100", {"host": "other"}) == "web-07"
    assert resolve_host("", {"instance": "web-07:9100", "node": "x"}) == "web-07"
    assert resolve_host("", {"nodename": "db-2", "server": "y"}) == "db-2"
    assert resolve_host("", {"server": "mail-1"}) == "mail-1"
    assert resolve_host("", {"job": "node"}) == ""
    assert resolve_host("", None) == ""


def test_a_very_long_name_is_cut_to_the_column_size():
    assert len(host_name("a" * 1000)) == 255


@pytest.mark.django_db(transaction=True)
def test_the_migration_resolves_hosts_stored_before():
    from django.core.management import call_command

    from apps.alerts.models import Alert, Incident

    call_command("migrate", "alerts", "0003", verbosity=0)
    try:
        incident = Incident.objects.create(
            title="DiskFull", host="web-07:9100", group_key="name=DiskFull|host=web-07:9100"
        )
        Alert.objects.create(
            source="alertmanager", fingerprint="f1", name="DiskFull", status="firing",
            severity="critical", host="web-07:9100", incident=incident,
            group_key="name=DiskFull|host=web-07:9100",
        )  # fmt: skip
        Incident.objects.create(title="Plain", host="db-1", group_key="name=Plain|host=db-1")
    finally:
        call_command("migrate", "alerts", verbosity=0)
    alert = Alert.objects.get(fingerprint="f1")
    assert (alert.host, alert.group_key) == ("web-07", "name=DiskFull|host=web-07")
    incident = Incident.objects.get(title="DiskFull")
    assert (incident.host, incident.group_key) == ("web-07", "name=DiskFull|host=web-07")
    assert Incident.objects.get(title="Plain").host == "db-1"
