"""The one message model built from a run's data, and its rendering through templates.

The model is complete without an analysis and without an incident: title, severity, status and
host then come from the payload, the alerts, the host checks or the definition.
"""

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

from apps.alerts.vendors.fields import unexpanded
from apps.common import templating
from apps.common.text import one_line
from apps.notify.drivers.base import Message

TEMPLATES_DIR = Path(__file__).parent / "templates" / "notify"
RESOLVED_STATUSES = {"resolved", "ok", "closed", "recovered", "resolve"}
CONTEXT_KEYS = (
    "payload",
    "incident",
    "alerts",
    "analysis",
    "context",
    "run_id",
    "trace_id",
    "source",
    "environment",
    "definition",
    "run",
    "nodes",
)


@lru_cache(maxsize=8)
def default_template(name: str) -> str:
    return (TEMPLATES_DIR / f"{name}.j2").read_text().strip("\n")


def normalise_context(message_context: Any) -> dict[str, Any]:
    """Every expected key present with the right type, whatever the caller passed."""
    ctx = dict(message_context) if isinstance(message_context, dict) else {}
    ctx["payload"] = ctx.get("payload") if isinstance(ctx.get("payload"), dict) else {}
    for key in ("incident", "analysis", "context"):
        ctx[key] = ctx.get(key) if isinstance(ctx.get(key), dict) else None
    alerts = ctx.get("alerts")
    ctx["alerts"] = [a for a in alerts if isinstance(a, dict)] if isinstance(alerts, list) else []
    for key in ("run_id", "trace_id", "source", "environment"):
        value = ctx.get(key)
        ctx[key] = "" if value is None else str(value)
    ctx.setdefault("definition", None)
    # The engine's template names, so one template works in any node config.
    ctx["nodes"] = ctx.get("nodes") if isinstance(ctx.get("nodes"), dict) else {}
    ctx["run"] = {
        "id": ctx["run_id"] or None,
        "trace_id": ctx["trace_id"],
        "source": ctx["source"],
        "environment": ctx["environment"],
    }
    return ctx


def template_variables(ctx: dict[str, Any], model: dict[str, Any]) -> dict[str, Any]:
    return {key: ctx.get(key) for key in CONTEXT_KEYS} | {"message": model}


def _first(*values: Any) -> str:
    """The first value that says something ("$HOSTNAME", a variable the sender's template left
    unexpanded, says nothing)."""
    for value in values:
        if value not in (None, "", [], {}) and not unexpanded(value):
            return str(value)
    return ""


def _definition_name(definition: Any) -> str:
    if isinstance(definition, dict):
        return _first(definition.get("name"), definition.get("title"))
    name = _first(definition)
    return Path(name).stem if name.endswith(".json") else name


def is_resolved(ctx: dict[str, Any]) -> bool:
    incident = ctx["incident"]
    if incident is not None:
        return str(incident.get("status", "")).lower() == "resolved"
    return str(ctx["payload"].get("status", "")).lower() in RESOLVED_STATUSES


def _recommendations(analysis: dict[str, Any] | None) -> list[dict[str, Any]]:
    items = (analysis or {}).get("recommendations") or []
    result = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, str):
            item = {"title": item}
        if not isinstance(item, dict):
            continue
        commands = item.get("commands") or []
        result.append(
            {
                "title": _first(item.get("title"), item.get("detail"), "recommendation"),
                "detail": _first(item.get("detail")) if item.get("title") else "",
                "priority": _first(item.get("priority")),
                "commands": [str(c) for c in commands] if isinstance(commands, list) else [],
            }
        )
    return result[:5]


def _failing_checks(context: dict[str, Any] | None) -> tuple[list[dict[str, str]], str]:
    if not context:
        return [], ""
    checks = context.get("checks")
    checks = checks if isinstance(checks, dict) else {}
    failing = [
        {"name": name, "status": str(check.get("status")), "message": _first(check.get("message"))}
        for name, check in checks.items()
        if isinstance(check, dict) and check.get("status") not in ("ok", None)
    ]
    summary = context.get("summary")
    summary = summary if isinstance(summary, dict) else {}
    counts = ", ".join(f"{value} {key}" for key, value in summary.items() if value)
    return failing, counts


def names_host(title: str, host: str) -> bool:
    """Whether the title already names the host as a whole word (web-1 is not in web-10)."""
    if not host:
        return True
    return re.search(rf"(?<![\w.-]){re.escape(host)}(?![\w-]|\.\w)", title) is not None


def dedup_key(ctx: dict[str, Any], title: str, host: str) -> str:
    """Incident identity: the incident id, else a stable key from the payload."""
    incident = ctx["incident"]
    if incident and incident.get("id") is not None:
        return f"incident-{incident['id']}"
    payload = ctx["payload"]
    for key in ("dedup_key", "incident_key", "fingerprint", "groupKey", "group_key", "id"):
        if payload.get(key) not in (None, "", [], {}):
            return f"payload-{key}-{payload[key]}"[:250]
    identity = json.dumps([ctx["source"], host, title], ensure_ascii=False)
    return "payload-" + hashlib.sha256(identity.encode()).hexdigest()[:20]


def _link(incident: dict[str, Any] | None, payload: dict[str, Any]) -> str:
    if incident and incident.get("id") is not None and settings.PUBLIC_BASE_URL:
        # The console's incident page: the story and the actions, for whoever got paged.
        return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/incidents/{incident['id']}"
    link = _first(payload.get("link"), payload.get("url"), payload.get("generatorURL"))
    return link if link.startswith(("http://", "https://")) else ""


def build_model(ctx: dict[str, Any], kind: str) -> dict[str, Any]:
    """The message model every template sees as `message`."""
    payload, incident, analysis = ctx["payload"], ctx["incident"] or {}, ctx["analysis"] or {}
    alert = ctx["alerts"][0] if ctx["alerts"] else {}
    context = ctx["context"] if isinstance(ctx["context"], dict) else {}
    # The host the facts were gathered for, when a node named it; never the hub's own name for
    # an alert that names no host (its facts are the hub's: the facts note says so).
    facts_host = "" if context.get("facts_note") else context.get("host")
    title = _first(
        incident.get("title"),
        payload.get("title"),
        payload.get("name"),
        payload.get("alertname"),
        payload.get("summary"),
        alert.get("name"),
        _definition_name(ctx["definition"]),
        "Incident notification",
    )
    host = _first(
        incident.get("host"),
        payload.get("server"),
        payload.get("host"),
        payload.get("hostname"),
        alert.get("host"),
        facts_host,
    )
    severity = _first(
        incident.get("severity"),
        payload.get("severity"),
        alert.get("severity"),
        analysis.get("severity_assessment"),
        "unknown",
    ).lower()
    status = _first(incident.get("status"), payload.get("status"), alert.get("status"))
    failing, checks_summary = _failing_checks(ctx["context"])
    no_facts = ""
    if context.get("available") is False:
        no_facts = f"No host facts for {_first(context.get('host'), host)}: " + _first(
            context.get("reason"), "no source had facts of the host"
        )
    return {
        "kind": kind,
        "title": title,
        "severity": severity,
        "status": "resolved" if kind == "resolve" else status,
        "host": host,
        "title_names_host": names_host(title, host),  # templates add " on <host>" only if not
        "started_at": _first(
            incident.get("created_at"), alert.get("started_at"), payload.get("started_at")
        ),
        "description": _first(
            alert.get("description"), payload.get("description"), payload.get("message")
        ),
        "link": _link(ctx["incident"], payload),
        "summary": _first(analysis.get("summary")),
        "probable_cause": _first(analysis.get("probable_cause")),
        "analysis_error": _first(analysis.get("error")),
        "recommendations": _recommendations(ctx["analysis"]),
        "failing_checks": failing,
        "checks_summary": checks_summary,
        "no_host_facts": no_facts,
        "facts_note": _first(context.get("facts_note")),
        "alerts_count": len(ctx["alerts"]),
        "alert_names": [_first(a.get("name"), "?") for a in ctx["alerts"][:5]],
        "dedup_key": dedup_key(ctx, title, host),
        "incident_id": incident.get("id"),
        "run_id": ctx["run_id"],
        "trace_id": ctx["trace_id"],
        "source": ctx["source"],
        "environment": ctx["environment"],
    }


def render_message(
    ctx: dict[str, Any],
    model: dict[str, Any],
    *,
    title_template: str | None,
    message_template: str | None,
    html: bool,
) -> tuple[Message, str]:
    """Render title and text (and the HTML part when asked).

    A custom template that fails to render falls back to the shipped default so the message
    still goes out; the returned warning says what failed.
    """
    variables = template_variables(ctx, model)
    warnings = []

    def render(custom: str | None, name: str) -> str:
        if custom:
            try:
                return templating.render(custom, variables)
            except templating.TemplateError as exc:
                key = "message" if name == "text" else name
                warnings.append(f"{key} template failed, default used: {exc}")
        return templating.render(default_template(name), variables)

    title = one_line(render(title_template, "title"), 500) or model["title"]
    text = render(message_template, "text").strip() + "\n"
    custom_text = bool(message_template) and not warnings
    html_body = ""
    if html:
        html_vars = variables | {"title": title, "text": text}
        html_vars["message"] = model | {"custom_text": custom_text}
        html_body = templating.render(default_template("html"), html_vars, html=True)
    fields = {key: value for key, value in model.items() if key in Message.__dataclass_fields__}
    message = Message(
        **(fields | {"title": title, "text": text, "html": html_body, "custom_text": custom_text})
    )
    return message, "; ".join(warnings)
