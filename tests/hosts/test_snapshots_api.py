"""POST /api/hosts/<name>/snapshots, GET /api/hosts, silent hosts and pruning, on the real app."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from apps.alerts.models import Alert, Incident
from apps.common.models import ApiKey
from apps.hosts.models import Host, HostSnapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def keys(db):
    return {scope: ApiKey.create_key(f"test-{scope}", [scope])[1] for scope in ("ingest", "read")}


@pytest.fixture(autouse=True)
def no_runs(settings):
    settings.INGEST_START_RUNS = False


def snapshot(disk_status="ok", percent=40.0, **extra):
    body = {
        "observed_at": timezone.now().isoformat(),
        "interval_s": 60,
        "agent_version": "0.1.0",
        "host": {"os": "Linux 6.1", "uptime_s": 86400, "cpu_count": 4},
        "checks": {
            "disk": {
                "status": disk_status,
                "message": f"disk / {percent:.1f}% used",
                "readings": {
                    "paths": {
                        "/": {
                            "percent": percent,
                            "total_bytes": 100 * 2**30,
                            "used_bytes": int(percent * 2**30),
                            "free_bytes": int((100 - percent) * 2**30),
                            "inodes_percent": 3.0,
                            "max_percent": percent,
                        }
                    },
                    "max_percent": percent,
                },
            },
            "memory": {
                "status": "ok",
                "message": "memory 30.0% used, 11.0 GiB available",
                "readings": {
                    "percent": 30.0,
                    "total_bytes": 16 * 2**30,
                    "available_bytes": 11 * 2**30,
                    "used_bytes": 5 * 2**30,
                },
            },
        },
    }
    body.update(extra)
    return body


def post(key, name, body, raw=None):
    data = raw if raw is not None else json.dumps(body)
    return Client().post(
        f"/api/hosts/{name}/snapshots",
        data=data,
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"} if key else {},
    )


def test_a_snapshot_is_stored_and_a_failing_check_opens_an_incident(keys):
    response = post(keys["ingest"], "web-07", snapshot("critical", 96.0))
    assert response.status_code == 202, response.content
    assert response.json()["changed"] == ["disk", "memory"]
    host = Host.objects.get(name="web-07")
    assert host.statuses == {"disk": "critical", "memory": "ok"}
    assert host.last_source == "agent"
    assert HostSnapshot.objects.filter(host=host).count() == 1
    alert = Alert.objects.get(fingerprint="check:disk:web-07")
    assert (alert.source, alert.status, alert.host) == ("checks", "firing", "web-07")
    assert alert.incident.status == Incident.Status.OPEN
    assert not Alert.objects.filter(fingerprint="check:memory:web-07").exists()

    # unchanged: the host row only, no history row, no alert written
    response = post(keys["ingest"], "web-07", snapshot("critical", 96.5))
    assert response.json()["changed"] == []
    assert HostSnapshot.objects.count() == 1

    # recovered: the alert resolves, and so does the incident
    response = post(keys["ingest"], "web-07", snapshot("ok", 50.0))
    assert response.json()["changed"] == ["disk"]
    alert.refresh_from_db()
    assert alert.status == "resolved"
    assert alert.incident.status == Incident.Status.RESOLVED


def test_an_unchanged_snapshot_costs_a_bounded_number_of_queries(
    keys, django_assert_max_num_queries
):
    post(keys["ingest"], "web-07", snapshot())
    with django_assert_max_num_queries(8):
        assert post(keys["ingest"], "web-07", snapshot()).status_code == 202


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the one-statement path is PostgreSQL's"
)
def test_an_unchanged_snapshot_on_postgresql_is_the_key_lookup_and_one_update(keys):
    from django.test.utils import CaptureQueriesContext

    post(keys["ingest"], "web-07", snapshot())
    post(keys["ingest"], "web-07", snapshot())  # the key's last-used time is written once
    before = Host.objects.get(name="web-07")
    with CaptureQueriesContext(connection) as queries:
        assert post(keys["ingest"], "web-07", snapshot("ok", 41.0)).status_code == 202
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) == 2, statements  # no BEGIN, no COMMIT, no history row
    assert statements[0].startswith("SELECT") and "; UPDATE" in statements[1], statements
    after = Host.objects.get(name="web-07")
    assert after.last_seen > before.last_seen and after.history_at == before.history_at
    assert after.snapshot["checks"]["disk"]["message"] == "disk / 41.0% used"
    # A status change still takes the transactional path, with its alert.
    response = post(keys["ingest"], "web-07", snapshot("critical", 97.0))
    assert response.json()["changed"] == ["disk"] and response.json()["incidents"]


@pytest.mark.parametrize(
    ("name", "body", "raw", "fragment"),
    [
        ("web-07", {**snapshot(), "extra": 1}, None, "unknown field"),
        ("web-07", {**snapshot(), "checks": []}, None, "checks must be an object"),
        ("web-07", {**snapshot(), "observed_at": 5}, None, "observed_at is required"),
        ("web-07", {**snapshot(), "observed_at": "yesterday"}, None, "not an ISO 8601"),
        ("web-07", {**snapshot(), "observed_at": "2026-01-01T00:00:00"}, None, "time zone"),
        ("web-07", {**snapshot(), "observed_at": "2999-01-01T00:00:00Z"}, None, "future"),
        ("web-07", {**snapshot(), "observed_at": "0001-01-01T00:00:00+00:00"}, None, "days old"),
        ("web-07", {**snapshot(), "host": {"uptime_s": "forever"}}, None, "host.uptime_s"),
        ("web-07", {**snapshot(), "host": {"cpu_count": -2}}, None, "host.cpu_count"),
        ("web-07", {**snapshot(), "checks": {"gpu": {"status": "ok"}}}, None, "unknown check"),
        ("web-07", {**snapshot(), "checks": {"cpu": {"status": "fine"}}}, None, "status must"),
        ("web-07", {**snapshot(), "interval_s": True}, None, "interval_s"),
        ("web-07", {**snapshot(), "labels": {"a": 1}}, None, "labels"),
        ("web 07", snapshot(), None, "not a host name"),
        ("web-07", None, "[1, 2]", "a snapshot is a JSON object"),
        ("web-07", None, "{not json", "not valid JSON"),
        ("web-07", None, "", "empty"),
        ("web-07", None, json.dumps({"observed_at": "x" * 300_000}), "262144-byte limit"),
    ],
)
def test_bad_snapshots_are_one_line_400s_and_store_nothing(keys, name, body, raw, fragment):
    response = post(keys["ingest"], name, body, raw=raw)
    assert response.status_code == 400, response.content
    error = response.json()
    assert set(error) >= {"code", "message"}
    assert fragment in error["message"]
    assert "\n" not in error["message"]
    assert Host.objects.count() == 0
    assert HostSnapshot.objects.count() == 0


def test_snapshots_need_the_ingest_scope(keys):
    assert post(None, "web-07", snapshot()).status_code == 401
    assert post(keys["read"], "web-07", snapshot()).status_code == 403
    assert Host.objects.count() == 0
    response = Client().get(
        "/api/hosts/web-07/snapshots", headers={"Authorization": f"Bearer {keys['ingest']}"}
    )
    assert response.status_code == 405


def test_hosts_are_listed_and_shown_with_the_read_scope(keys):
    post(keys["ingest"], "web-07", snapshot("warning", 85.0))
    client = Client(headers={"Authorization": f"Bearer {keys['read']}"})
    listing = client.get("/api/hosts")
    assert listing.status_code == 200
    (row,) = listing.json()
    assert (row["name"], row["worst_status"], row["open_incidents"]) == ("web-07", "warning", 1)
    detail = client.get("/api/hosts/web-07").json()
    assert detail["snapshot"]["checks"]["disk"]["status"] == "warning"
    assert client.get("/api/hosts/nope").status_code == 404
    assert Client().get("/api/hosts").status_code == 401
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/hosts", "/api/hosts/{name}", "/api/hosts/{name}/snapshots"} <= set(paths)


def test_a_silent_host_opens_one_incident_and_its_next_snapshot_resolves_it(keys, settings):
    from io import StringIO

    from django.core.management import call_command

    post(keys["ingest"], "web-07", snapshot())
    Host.objects.filter(name="web-07").update(last_seen=timezone.now() - timedelta(hours=1))
    call_command("sweep_runs", stdout=StringIO())
    call_command("sweep_runs", stdout=StringIO())  # a second sweep pages no more
    incident = Incident.objects.get(title__contains="stopped reporting")
    assert (incident.severity, incident.source, incident.host) == ("critical", "agent", "web-07")
    assert incident.status == Incident.Status.OPEN
    assert Alert.objects.filter(fingerprint="agent:silent:web-07").count() == 1

    post(keys["ingest"], "web-07", snapshot())
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    assert Host.objects.get(name="web-07").silent_since is None


def test_forget_removes_a_host_and_resolves_its_silence(keys):
    from io import StringIO

    from django.core.management import call_command

    post(keys["ingest"], "web-07", snapshot())
    Host.objects.filter(name="web-07").update(last_seen=timezone.now() - timedelta(hours=1))
    call_command("sweep_runs", stdout=StringIO())
    out = StringIO()
    call_command("hosts", "forget", "web-07", stdout=out)
    assert "Forgot host web-07" in out.getvalue()
    assert not Host.objects.exists()
    assert Incident.objects.get().status == Incident.Status.RESOLVED
    call_command("sweep_runs", stdout=StringIO())
    assert Incident.objects.count() == 1  # a forgotten host does not page


def test_history_is_bounded_by_count_and_pruned(keys, settings):
    from io import StringIO

    from django.core.management import call_command

    settings.HOST_SNAPSHOTS_KEEP = 3
    for index in range(6):  # every other one changes a status: a history row each
        post(keys["ingest"], "web-07", snapshot("critical" if index % 2 else "ok"))
    assert HostSnapshot.objects.count() == 6
    call_command("prune", "--older-than", "30d", stdout=StringIO())
    assert HostSnapshot.objects.count() == 3


def test_hosts_command_lists_and_shows(keys):
    from io import StringIO

    from django.core.management import call_command

    post(keys["ingest"], "web-07", snapshot("critical", 97.0))
    out = StringIO()
    call_command("hosts", stdout=out)
    assert "web-07" in out.getvalue() and "critical" in out.getvalue()
    out = StringIO()
    call_command("hosts", "show", "web-07", stdout=out)
    assert "disk / 97.0% used" in out.getvalue()
    out = StringIO()
    call_command("hosts", "list", "--json", stdout=out)
    assert json.loads(out.getvalue())[0]["statuses"]["disk"] == "critical"
    for before_action in (["--json", "list"], ["--json", "show", "web-07"]):
        out = StringIO()
        call_command("hosts", *before_action, stdout=out)
        assert json.loads(out.getvalue()), before_action  # the flag before the action counts


def test_secrets_in_a_snapshot_are_redacted_before_they_are_stored(keys):
    body = snapshot()
    body["checks"]["disk"]["message"] = "disk / 40% used; mounted with password=hunter2secret"
    body["checks"]["disk"]["readings"]["api_key"] = "sk-live-0123456789abcdef"
    assert post(keys["ingest"], "web-07", body).status_code == 202
    stored = json.dumps(Host.objects.get(name="web-07").snapshot)
    assert "hunter2secret" not in stored and "sk-live-0123456789abcdef" not in stored


def test_the_admin_shows_hosts_and_lets_aliases_be_edited(keys, admin_client):
    post(keys["ingest"], "web-07", snapshot("warning", 85.0))
    host = Host.objects.get(name="web-07")
    assert admin_client.get("/admin/hosts/host/").status_code == 200
    page = admin_client.get(f"/admin/hosts/host/{host.pk}/change/")
    assert page.status_code == 200 and b"web-07" in page.content
    assert admin_client.get("/admin/hosts/hostsnapshot/").status_code == 200
    response = admin_client.post(
        f"/admin/hosts/host/{host.pk}/change/",
        {"aliases": '["web-07.example.com"]', "labels": "{}"},
    )
    assert response.status_code == 302, response.content[:500]
    from apps.hosts.services import find

    assert find("web-07.example.com").pk == host.pk


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (
            '{"observed_at": "2026-01-01T00:00:00Z", "checks": {}, "interval_s": 1'
            + "0" * 5000
            + "}",
            "number is too large",
        ),
        (
            '{"observed_at": "2026-01-01T00:00:00Z", "checks": {"cpu": {"status": "ok", '
            '"duration_ms": 1e999}}}',
            "too large",
        ),
        (
            '{"observed_at": "2026-01-01T00:00:00Z", "checks": {"disk": {"status": "warning", '
            '"message": "disk /mnt/d\\udcff 95% used"}}}',
            "lone surrogate",
        ),
    ],
)
def test_numbers_and_text_no_database_can_store_are_400s(keys, raw, fragment):
    response = post(keys["ingest"], "web-07", None, raw=raw)
    assert response.status_code == 400, response.content
    assert fragment in response.json()["message"]
    assert Host.objects.count() == 0


def test_the_same_refusals_on_the_alert_webhooks(keys):
    for raw in (
        '{"name": "x\\ud800", "status": "firing"}',
        '{"name": "x", "value": 1' + "0" * 5000 + "}",
    ):
        response = Client().post(
            "/api/alerts/", data=raw, content_type="application/json",
            headers={"Authorization": f"Bearer {keys['ingest']}"},
        )  # fmt: skip
        assert response.status_code == 400, response.content
    assert Alert.objects.count() == 0


def test_sweep_from_cron_without_a_broker_finishes_the_silent_hosts_runs(
    keys, settings, django_capture_on_commit_callbacks
):
    from io import StringIO

    from django.core.management import call_command

    from apps.orchestration.models import PipelineRun

    settings.INGEST_START_RUNS, settings.CELERY_BROKER_URL = True, ""
    post(keys["ingest"], "web-07", snapshot())
    Host.objects.filter(name="web-07").update(last_seen=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("sweep_runs", stdout=StringIO())
    run = PipelineRun.objects.get(incident__title="web-07 stopped reporting")
    assert run.status == "COMPLETED"  # ran before the command returned, not in a dying thread


def test_hosts_are_listed_worst_first_and_silent_ones_say_so(keys):
    from io import StringIO

    from django.core.management import call_command

    post(keys["ingest"], "a-ok", snapshot("ok"))
    post(keys["ingest"], "b-bad", snapshot("critical", 97.0))
    post(keys["ingest"], "c-quiet", snapshot("ok"))
    Host.objects.filter(name="c-quiet").update(silent_since=timezone.now())
    out = StringIO()
    call_command("hosts", stdout=out, no_color=True)
    names = [line.split()[0] for line in out.getvalue().splitlines()[1:]]
    assert names == ["c-quiet", "b-bad", "a-ok"]
    assert "silent" in out.getvalue().splitlines()[1]


def test_a_status_change_is_not_stored_without_its_alert(keys, monkeypatch):
    from django.db import OperationalError

    from apps.orchestration import triggers

    post(keys["ingest"], "web-07", snapshot("ok"))

    def busy(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(triggers, "store_in_transaction", busy)  # the webhook's write
    response = post(keys["ingest"], "web-07", snapshot("critical", 97.0))
    assert response.status_code == 503
    assert Host.objects.get(name="web-07").statuses["disk"] == "ok"  # rolled back with it
    monkeypatch.undo()
    response = post(keys["ingest"], "web-07", snapshot("critical", 97.0))
    assert response.json()["changed"] == ["disk"]  # the retry still pages
    assert Alert.objects.filter(fingerprint="check:disk:web-07", status="firing").exists()
