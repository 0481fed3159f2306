"""Turn the analyse() inputs (ORM rows or dicts) into plain, bounded dicts every provider reads."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from apps.alerts.vendors.fields import unexpanded

# Local rules look at this many alerts at most; prompts take fewer (INTELLIGENCE_MAX_ALERTS...).
MAX_ALERTS_READ = 500
ALERT_FIELDS = ("name", "status", "severity", "host", "source", "fingerprint", "description")
PAYLOAD_HOST_KEYS = ("host", "hostname", "server", "instance", "node")
PAYLOAD_TEXT_KEYS = (
    "title",
    "name",
    "alertname",
    "summary",
    "description",
    "message",
    "trigger",
    "item",
    "condition_name",
    "service",
    "check",
)


@dataclass
class Facts:
    incident: dict[str, Any] | None
    alerts: list[dict[str, Any]]
    alerts_total: int
    checks: dict[str, dict[str, Any]]
    host_info: dict[str, Any]
    payload_host: str = ""
    # Where the context came from (local, agent, prometheus; "" for a context from before
    # fleets) and, when no source had facts of the host, why.
    facts_source: str = ""
    no_facts_reason: str = ""
    # Set when the alert named no host and the facts are the hub's own (apps.hosts.facts).
    facts_note: str = ""

    @property
    def measured_here(self) -> bool:
        """The checks were measured on this machine (only then may the rules look around)."""
        return self.facts_source in ("", "local") and not self.no_facts_reason

    @property
    def host(self) -> str:
        if self.incident and self.incident.get("host"):
            return str(self.incident["host"])
        for alert in self.alerts:
            if alert.get("host"):
                return str(alert["host"])
        return self.payload_host or str(self.host_info.get("hostname") or "")

    @property
    def firing_alerts(self) -> list[dict[str, Any]]:
        return [a for a in self.alerts if a.get("status") != "resolved"]

    @property
    def resolved(self) -> bool:
        """The incident (or, without one, every given alert) is resolved."""
        if self.incident:
            return self.incident.get("status") == "resolved"
        return bool(self.alerts) and not self.firing_alerts


def alert_dict(alert: Any) -> dict[str, Any]:
    if isinstance(alert, dict):
        row = {key: alert.get(key) for key in ALERT_FIELDS}
        labels, annotations = alert.get("labels"), alert.get("annotations")
    else:
        row = {key: getattr(alert, key, None) for key in ALERT_FIELDS}
        labels, annotations = alert.labels, alert.annotations
    row = {key: ("" if value is None else str(value)) for key, value in row.items()}
    row["labels"] = labels if isinstance(labels, dict) else {}
    row["annotations"] = annotations if isinstance(annotations, dict) else {}
    return row


def _payload_alert(payload: dict[str, Any], host: str) -> dict[str, Any] | None:
    """A payload with no incident (e.g. a transform-only pipeline) still says what is wrong."""
    texts = [
        str(payload[k])
        for k in PAYLOAD_TEXT_KEYS
        if isinstance(payload.get(k), str | int) and not unexpanded(payload[k])
    ]
    for nested in ("labels", "annotations"):
        if isinstance(payload.get(nested), dict):
            texts += [str(v) for v in payload[nested].values() if isinstance(v, str)][:20]
    if not texts:
        return None
    status = str(payload.get("status") or payload.get("state") or "firing").lower()
    resolved = status in {"resolved", "ok", "closed", "recovered"}
    return {
        "name": texts[0][:200],
        "status": "resolved" if resolved else "firing",
        "severity": str(payload.get("severity") or "").lower(),
        "host": host,
        "source": "payload",
        "fingerprint": "",
        "description": " ".join(texts[1:])[:2000],
        "labels": {},
        "annotations": {},
    }


def _checks(context: Any) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    if not isinstance(context, dict):
        return {}, {}
    checks = context.get("checks")
    host = context.get("host_info", context.get("host"))  # "host" held the info before fleets
    clean = {}
    if isinstance(checks, dict):
        for name, result in checks.items():
            if isinstance(result, dict):
                metrics = result.get("metrics")
                clean[str(name)] = {
                    "status": str(result.get("status") or "unknown"),
                    "message": str(result.get("message") or ""),
                    "metrics": metrics if isinstance(metrics, dict) else {},
                }
    return clean, host if isinstance(host, dict) else {}


def gather(
    *, incident: Any = None, alerts: Any = None, payload: Any = None, context: Any = None
) -> Facts:
    rows: list[Any] = []
    total = 0
    if isinstance(alerts, QuerySet):
        rows = list(alerts[:MAX_ALERTS_READ])
        total = len(rows) if len(rows) < MAX_ALERTS_READ else alerts.count()
    elif isinstance(alerts, list | tuple):
        rows, total = list(alerts[:MAX_ALERTS_READ]), len(alerts)
    elif incident is not None:
        # Firing alerts first so a cap never hides what is still wrong.
        rows = list(incident.alerts.order_by("status", "-id")[:MAX_ALERTS_READ])
        total = len(rows) if len(rows) < MAX_ALERTS_READ else incident.alerts.count()
    alert_rows = [alert_dict(a) for a in rows if isinstance(a, dict) or hasattr(a, "labels")]
    checks, host_info = _checks(context)
    source, reason, note = "", "", ""
    if isinstance(context, dict):
        source = str(context.get("source") or "")
        note = str(context.get("facts_note") or "")[:300]
        if context.get("available") is False:
            reason = str(context.get("reason") or "no source had facts of the host")[:500]
    payload_host = ""
    if isinstance(payload, dict):
        payload_host = next(
            (
                str(payload[k])
                for k in PAYLOAD_HOST_KEYS
                if isinstance(payload.get(k), str)
                and payload[k].strip()
                and not unexpanded(payload[k])  # "$HOSTNAME" names no host
            ),
            "",
        )
        if incident is None and not alert_rows:
            pseudo = _payload_alert(payload, payload_host)
            if pseudo:
                alert_rows, total = [pseudo], 1
    return Facts(
        incident=incident.as_dict() if incident is not None else None,
        alerts=alert_rows,
        alerts_total=max(total, len(alert_rows)),
        checks=checks,
        host_info=host_info,
        payload_host=payload_host,
        facts_source=source,
        no_facts_reason=reason,
        facts_note=note,
    )
