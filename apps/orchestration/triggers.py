"""The one way stored alerts start runs: webhooks, check_and_alert, agents and the API call it.

`ingest_and_start` parses a payload (outside the write lock), stores its alerts, and creates one
PENDING run per incident that opened, reopened, resolved or rose in severity, routed by the
alert that changed it; the runs are dispatched after the transaction commits.
"""

from __future__ import annotations

import json
import logging
import uuid
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction

from apps.alerts.ingestion import record_stored, store_in_transaction
from apps.alerts.services import IngestResult, prepare_payload, store
from apps.common.text import one_line

from . import routing, rows
from .definition_orchestrator import DefinitionBasedOrchestrator
from .models import PipelineRun, RunStatus
from .priority import run_priority
from .records import run_input
from .services import dispatch, orchestrator_for

logger = logging.getLogger(__name__)


@dataclass
class Triggered:
    result: IngestResult
    run_ids: list[int] = field(default_factory=list)
    run_errors: list[str] = field(default_factory=list)
    priorities: dict[int, int] = field(default_factory=dict)  # run id -> priority


def ingest_and_start(
    payload: Any,
    source: str | None,
    trace_id: str,
    *,
    start_runs: bool | None = None,
    dispatch_runs: bool = True,
) -> Triggered:
    """Store the alerts of `payload` and start the runs it calls for, in one transaction.

    start_runs: None follows INGEST_START_RUNS. dispatch_runs=False leaves the created runs
    PENDING for the caller to execute (a CLI that must finish them before it exits).
    Raises IngestError (one line) for a payload it cannot use; nothing is stored then.
    """
    if start_runs is None:
        start_runs = settings.INGEST_START_RUNS
    prepared = prepare_payload(payload, source)  # parse before taking the write lock
    # Read before it too: on SQLite every other writer waits while this transaction is open.
    found_routes = routing.routes() if start_runs else None
    try:
        # One transaction with no savepoint in it (four statements fewer on PostgreSQL). A
        # concurrent webhook that stored one of these alerts or opened one of these incidents
        # first (IntegrityError), or a run that cannot be stored, rolls all of it back; it is
        # then done again with a savepoint around each step, which names the run that failed.
        with transaction.atomic():
            result = store_in_transaction(prepared.source, prepared.items, trace_id=trace_id)
            triggered = start_runs_for(
                result, payload, trace_id, prepared.group_keys, found_routes, careful=False
            )
        record_stored(prepared.source, prepared.items)
    except (IntegrityError, RunsNotCreated) as exc:
        logger.info("ingest of %s alerts redone step by step: %s", prepared.source, exc)
        with transaction.atomic():
            result = store(prepared.source, prepared.items, trace_id=trace_id)
            triggered = start_runs_for(
                result, payload, trace_id, prepared.group_keys, found_routes, careful=True
            )
    if dispatch_runs and triggered.run_ids:
        # Sent once the transaction is over (on SQLite the other writers queue behind it: a
        # broker round trip inside it would cost each of them), or at the caller's own commit.
        ids, priorities = list(triggered.run_ids), dict(triggered.priorities)
        transaction.on_commit(lambda: dispatch_quietly(ids, priorities))
    return triggered


class RunsNotCreated(Exception):
    """The one INSERT of a webhook's runs failed; on PostgreSQL its transaction is broken."""


def start_runs_for(
    result: IngestResult,
    payload: Any,
    trace_id: str,
    group_keys: list[str],
    found_routes: tuple[list[Any], Any] | None,
    *,
    careful: bool,
) -> Triggered:
    """The stored result with its runs (found_routes None: runs off)."""
    triggered = Triggered(result)
    if found_routes is not None and result.changed:
        triggered.run_ids, triggered.run_errors = runs_for(
            result, payload, trace_id, group_keys, triggered.priorities, found_routes,
            careful=careful,
        )  # fmt: skip
    return triggered


def runs_for(
    result: IngestResult,
    payload: Any,
    trace_id: str,
    group_keys: list[str] | None = None,
    priorities: dict[int, int] | None = None,
    found_routes: tuple[list[Any], Any] | None = None,
    *,
    careful: bool = True,
) -> tuple[list[int], list[str]]:
    """Create one PENDING run per changed incident; returns (run ids, one-line errors).

    group_keys: the group key of each alert of the payload, in order; they let a body that
    changed several incidents (or is too large to store whole) give every run its own alerts
    rather than a copy of the whole body each. priorities, when given, receives each run's
    priority (critical incidents first, orchestration.priority). found_routes: routing.routes(),
    when the caller read them already. careful=False: no savepoint; RunsNotCreated when the
    runs cannot be stored, for the caller to redo its transaction with careful=True."""
    definitions, fallback = found_routes if found_routes is not None else routing.routes()
    wanted = {incident.group_key for incident, _ in result.changed}
    slices: dict[str, Any] = {}
    if len(wanted) > 1:  # each run its own alerts, not a copy of the whole body each
        slices = RunPayloads(payload, group_keys or []).by_group_key(wanted)
    stored_payload = None
    if len(slices) < len(wanted):  # some run keeps the body as stored (made once for all)
        stored_payload = run_input(payload)
    orchestrators: dict[Any, DefinitionBasedOrchestrator] = {}
    planned: list[tuple[Any, str, dict[str, Any]]] = []  # incident, reason, run row
    for incident, reason in result.changed:
        trigger = result.triggers.get(incident.pk)
        labels = trigger.labels if trigger else {}
        severity = trigger.severity if trigger else incident.severity
        host = trigger.host if trigger else incident.host
        route = routing.choose(result.source, severity, labels, definitions, host, fallback)
        key = route.definition.pk if route.definition is not None else None
        if key not in orchestrators:  # one per definition: its config is sealed once
            orchestrators[key] = orchestrator_for(route.definition)
        run = orchestrators[key].run_row(
            payload, source=result.source, trace_id=trace_id, environment="production",
            status=RunStatus.PENDING, incident=incident,
            stored_payload=slices.get(incident.group_key, stored_payload),
        )  # fmt: skip
        run["priority"] = run_priority(incident.severity, reason)
        planned.append((incident, reason, run))
    errors: list[str] = []
    saved: list[tuple[int, int]] = []  # (run id, priority)
    try:
        with transaction.atomic() if careful else nullcontext():
            ids = rows.insert_values(PipelineRun, [run for _, _, run in planned])  # one INSERT
        saved = [(pk, run["priority"]) for pk, (_, _, run) in zip(ids, planned, strict=True)]
    except (DatabaseError, ValueError) as exc:
        if not careful:
            raise RunsNotCreated(one_line(str(exc))) from exc
        for incident, reason, run in planned:  # one by one, to name the incident that failed
            try:
                with transaction.atomic():
                    [pk] = rows.insert_values(PipelineRun, [run])
            except (DatabaseError, ValueError) as exc:
                # The alerts stay stored; the sender sees which incident got no run and why.
                logger.error("could not start a run for incident %s: %s", incident.pk, exc)
                errors.append(f"incident {incident.pk} ({reason}): {exc}")
                continue
            saved.append((pk, run["priority"]))
    if priorities is not None:
        priorities.update(saved)
    return [pk for pk, _ in saved], errors


def dispatch_quietly(run_ids: list[int], priorities: dict[int, int] | None = None) -> None:
    try:
        dispatch(run_ids, priorities=priorities)
    except Exception:  # the runs stay PENDING for the stuck-run sweeper; the alerts are stored
        logger.exception("could not dispatch runs %s", run_ids)


class RunPayloads:
    """Per-incident copies of a webhook body that changed several incidents.

    A body with an `alerts` list (Alertmanager, Grafana, the generic list) is cut into one copy
    per group key: the envelope (every other key, within ENVELOPE_BUDGET bytes) plus that
    incident's own alerts. Each part is redacted once, however many runs share it.
    """

    ENVELOPE_BUDGET = 4096

    def __init__(self, payload: Any, group_keys: list[str]) -> None:
        self.payload = payload
        self.group_keys = group_keys

    def by_group_key(self, wanted: set[str]) -> dict[str, Any]:
        """A payload for each group key in `wanted` (the incidents that start runs)."""
        from apps.common.redact import redact

        alerts = self.payload.get("alerts") if isinstance(self.payload, dict) else None
        if not isinstance(alerts, list) or len(alerts) != len(self.group_keys):
            return {}  # no list to cut, or alerts the parser merged or skipped: the whole body
        envelope = self._envelope(redact)
        parts: dict[str, list[Any]] = {}
        for key, alert in zip(self.group_keys, alerts, strict=True):
            if key in wanted:
                parts.setdefault(key, []).append(redact(alert))
        # Whole: the run executes from it (the envelope is what is kept within its budget).
        return {key: {**envelope, "alerts": own} for key, own in parts.items()}

    def _envelope(self, redact: Any) -> dict[str, Any]:
        """The other top-level keys, smallest first, within the budget; the rest are named in
        `omitted_keys` so a template author can tell why a key is missing."""
        sized = sorted(
            ((json_size(value), key)
             for key, value in self.payload.items() if key != "alerts"),
            key=lambda entry: entry[0],
        )  # fmt: skip
        kept, omitted, used = set(), [], 0
        for size, key in sized:
            if used + size <= self.ENVELOPE_BUDGET:
                kept.add(key)
                used += size
            else:
                omitted.append(key)
        envelope = {key: value for key, value in self.payload.items() if key in kept}
        if omitted:
            envelope["omitted_keys"] = omitted
        return redact(envelope)


def json_size(value: Any) -> int:
    """Bytes of `value` as compact JSON (UTF-8): what a payload part weighs in the database."""
    try:
        return len(orjson.dumps(value, default=str))
    except TypeError:  # integers beyond 64 bits, lone surrogates
        text = json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))
        return len(text.encode(errors="surrogatepass"))


# unknown means the check itself is broken: worth a look, not a page.
CHECK_SEVERITY = {"critical": "critical", "warning": "warning", "unknown": "warning"}


def check_alerts(host: str, checks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Check results of one host as a generic-format payload: a non-ok check fires its alert;
    an ok check resolves its alert only when that alert is firing (a check that never fired
    stores nothing). An ok result's description is fixed text, so a re-sent recovery is
    identical and ingestion writes nothing for it."""
    from apps.alerts.models import Alert
    from apps.alerts.services import CHECKS_SOURCE

    fingerprints = {name: f"check:{name}:{host}" for name in checks}
    firing = set(
        Alert.objects.filter(
            source=CHECKS_SOURCE,
            fingerprint__in=list(fingerprints.values()),
            status=Alert.Status.FIRING,
        ).values_list("fingerprint", flat=True)
    )
    alerts = []
    for name, result in checks.items():
        status = result["status"]
        if status == "ok" and fingerprints[name] not in firing:
            continue
        ok = status == "ok"
        alerts.append(
            {
                "name": f"{name} check",
                "status": "resolved" if ok else "firing",
                "severity": "info" if ok else CHECK_SEVERITY.get(status, "warning"),
                "host": host,
                "description": f"{name} check is ok" if ok else result["message"],
                "labels": {"check": name, "check_status": status},
                "fingerprint": fingerprints[name],
            }
        )
    return {"alerts": alerts}


def snapshot_received(name: str, snapshot: Any, trace_id: str) -> tuple[Any, list[Triggered]]:
    """Store an agent's snapshot; checks whose status changed become alerts (source `checks`),
    and a host that had stopped reporting resolves its "stopped reporting" alert."""
    from apps.hosts.services import record_snapshot, refresh_unchanged, silent_alert

    unchanged = refresh_unchanged(name, snapshot)  # most snapshots: one statement, no alert
    if unchanged is not None:
        return unchanged, []
    # One transaction: a status change is never stored without the alert it makes (else a
    # failed ingestion would leave the next, identical snapshot "unchanged" and never page).
    with transaction.atomic():
        recorded = record_snapshot(name, snapshot)
        triggered = []
        if recorded.changed:
            payload = check_alerts(name, recorded.changed)
            if payload["alerts"]:
                triggered.append(ingest_and_start(payload, "checks", trace_id))
        if recorded.was_silent:
            back = silent_alert(recorded.host, firing=False)
            triggered.append(ingest_and_start(back, "agent", trace_id))
    return recorded, triggered


def silent_hosts_alerted(*, background: bool = True) -> list[str]:
    """Open one "<host> stopped reporting" incident per host that went silent (the sweep).

    background=False (a command from cron, without a broker): the runs execute before this
    returns, so they are not lost when the process exits."""
    from apps.hosts.services import mark_silent, silent_alert, silent_hosts

    names, run_ids = [], []
    for host in silent_hosts():
        with transaction.atomic():  # marked silent only with its alert stored
            if not mark_silent(host):
                continue
            payload = silent_alert(host, firing=True)
            triggered = ingest_and_start(payload, "agent", uuid.uuid4().hex, dispatch_runs=False)
        run_ids += triggered.run_ids
        names.append(host.name)
    dispatch(run_ids, background=background)
    return names
