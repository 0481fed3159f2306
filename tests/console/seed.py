"""Volume for the console: incidents with alerts, runs with nodes, analyses and deliveries,
written with bulk_create (used by the query-count tests and bench/bench_console.py)."""

from datetime import timedelta

from django.utils import timezone

from apps.alerts.models import Alert, AlertEvent, Incident, IncidentEvent
from apps.hosts.models import Host
from apps.intelligence.models import AnalysisRun
from apps.notify.models import Delivery
from apps.orchestration.models import PipelineDefinition, PipelineRun, StageExecution

SEVERITIES = ("critical", "warning", "info")
NODES = (
    ("ingest", "ingest"),
    ("check", "context"),
    ("analyze", "intelligence"),
    ("notify", "notify"),
)
CONFIG = {
    "version": "1",
    "nodes": [
        {"id": "check", "type": "context", "config": {}, "next": "notify"},
        {"id": "notify", "type": "notify", "config": {"driver": "console"}},
    ],
}


def seed(incidents: int, runs: int, *, active_every: int = 10, batch: int = 5000) -> list[int]:
    """`incidents` incidents (one in `active_every` open or acknowledged, the rest resolved)
    and `runs` runs spread over them; returns the incident ids."""
    now = timezone.now()
    definition, _ = PipelineDefinition.objects.get_or_create(
        name="seeded", defaults={"config": CONFIG, "match": {"source": "generic"}}
    )
    rows = []
    for i in range(incidents):
        active = i % active_every == 0
        status = (
            ("open" if i % (2 * active_every) == 0 else "acknowledged") if active else "resolved"
        )
        created = now - timedelta(minutes=incidents - i)
        rows.append(
            Incident(
                title=f"Load{i} on host-{i % 500}", status=status,
                severity=SEVERITIES[i % 3], group_key=f"name=Load{i}|host=host-{i % 500}",
                source="generic", host=f"host-{i % 500}", created_at=created, updated_at=created,
                resolved_at=None if active else created,
            )
        )  # fmt: skip
    created = Incident.objects.bulk_create(rows, batch_size=batch)
    ids = [incident.pk for incident in created]
    alerts = Alert.objects.bulk_create(
        [
            Alert(source="generic", fingerprint=f"seed-{pk}", name=f"Load{n}",
                  status="firing" if incident.status != "resolved" else "resolved",
                  severity=incident.severity, host=incident.host, group_key=incident.group_key,
                  incident_id=pk)
            for n, (pk, incident) in enumerate(zip(ids, created, strict=True))
        ],
        batch_size=batch,
    )  # fmt: skip
    AlertEvent.objects.bulk_create(
        [AlertEvent(alert_id=alert.pk, kind="created", reason="seeded") for alert in alerts],
        batch_size=batch,
    )
    IncidentEvent.objects.bulk_create(
        [IncidentEvent(incident_id=pk, to_status="open", reason="seeded") for pk in ids],
        batch_size=batch,
    )
    run_ids: list[int] = []
    for start in range(0, runs, batch):
        chunk = [
            PipelineRun(
                definition=definition, definition_name="seeded", definition_version=1,
                config_snapshot=CONFIG, kind="definition", trace_id=f"seed-{n}", source="generic",
                status="FAILED" if n % 50 == 0 else "COMPLETED", payload={"n": n},
                incident_id=ids[n % len(ids)], created_at=now - timedelta(seconds=runs - n),
                duration_ms=120.0, error="seeded failure" if n % 50 == 0 else "",
            )
            for n in range(start, min(start + batch, runs))
        ]  # fmt: skip
        made = PipelineRun.objects.bulk_create(chunk, batch_size=batch)
        run_ids += [run.pk for run in made]
        StageExecution.objects.bulk_create(
            [
                StageExecution(run_id=run.pk, node_id=node_id, node_type=node_type, position=p,
                               status="SUCCEEDED", attempts=1, duration_ms=10.0,
                               output={"source": "agent", "available": True} if node_type == "context" else {"ok": True})
                for run in made for p, (node_id, node_type) in enumerate(NODES[1::2])
            ],
            batch_size=batch,
        )  # fmt: skip
    AnalysisRun.objects.bulk_create(
        [
            AnalysisRun(provider="local", requested_provider="local", status="succeeded",
                        incident_id=pk, output={"summary": f"summary of {pk}", "evidence": []})
            for pk in ids
        ],
        batch_size=batch,
    )  # fmt: skip
    Delivery.objects.bulk_create(
        [
            Delivery(driver="console", destination="stderr", incident_id=pk,
                     idempotency_key=f"seed-{pk}", status="succeeded", attempts=1)
            for pk in ids
        ],
        batch_size=batch,
    )  # fmt: skip
    Host.objects.bulk_create(
        [
            Host(name=f"host-{n}", statuses={"cpu": "ok", "disk": "warning"})
            for n in range(min(incidents, 500))
        ],
        batch_size=batch,
        ignore_conflicts=True,
    )
    return ids
