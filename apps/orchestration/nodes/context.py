"""context: facts about the host the incident is about; problems found are data, not a failure.

Config: `include`/`options` (which checks, their options), `host` (a template; default: the
incident's host, else payload.host / payload.server, else this machine) and `sources` (default
local, agent, prometheus: see apps.hosts.facts).
"""

from typing import Any

from .base import NodeContext, NodeFailed, NodeHandler

OWN_KEYS = ("host", "sources")


class ContextNode(NodeHandler):
    type_name = "context"
    side_effects = False

    def validate_config(self, config: dict, known_nodes: set[str]) -> list[str]:
        from apps.checkers.services import validate_context_config
        from apps.hosts.facts import SOURCES

        if not isinstance(config, dict):
            return validate_context_config(config)
        allowed = ("include", "options", *OWN_KEYS)
        problems = [
            f"unknown key '{key}' in config (allowed: {', '.join(allowed)})"
            for key in config
            if key not in allowed
        ]
        checks = {key: value for key, value in config.items() if key in ("include", "options")}
        problems += validate_context_config(checks)
        host = config.get("host")
        if host is not None and not isinstance(host, str):
            problems.append(f"host must be a string (a host name or a template), got {host!r}")
        sources = config.get("sources")
        if sources is not None:
            if not isinstance(sources, list) or not sources:
                problems.append(f"sources must be a non-empty list of {', '.join(SOURCES)}")
            else:
                problems += [
                    f"unknown source {source!r} in sources (known: {', '.join(SOURCES)})"
                    for source in sources
                    if source not in SOURCES
                ]
                if len(set(map(str, sources))) != len(sources):
                    problems.append("sources lists a source more than once")
        return problems

    def run(self, ctx: NodeContext, config: dict) -> dict:
        from apps.alerts.hosts import host_name
        from apps.checkers.services import CheckerError
        from apps.hosts.facts import SOURCES, host_facts

        sources = config.get("sources") or list(SOURCES)
        target = host_name(config["host"]) if config.get("host") else default_target(ctx)
        try:
            output = host_facts(
                target,
                sources,
                include=config.get("include"),
                options=config.get("options"),
                at=alert_start(ctx) if "prometheus" in sources else None,
                trace_id=ctx.trace_id,
                pipeline_run=ctx.run,
                deadline=ctx.deadline,
            )
        except CheckerError as exc:
            raise NodeFailed(str(exc)) from exc
        # Each check's metrics also at the top, so templates can say nodes.<id>.output.cpu.percent
        for name, result in output.get("checks", {}).items():
            output.setdefault(name, result.get("metrics", {}))
        return output


def default_target(ctx: NodeContext) -> str:
    """The incident's host, else payload.host / payload.server, else "" (this machine)."""
    from apps.alerts.hosts import host_name

    if ctx.incident is not None and ctx.incident.host:
        return str(ctx.incident.host)
    payload = ctx.payload if isinstance(ctx.payload, dict) else {}
    return host_name(payload.get("host")) or host_name(payload.get("server"))


def alert_start(ctx: NodeContext) -> Any:
    """When the incident's firing alerts started (the time to ask Prometheus about)."""
    if ctx.incident is None:
        return None
    from django.db.models import Min

    started = ctx.incident.alerts.filter(status="firing").aggregate(first=Min("started_at"))
    return started["first"] or ctx.incident.created_at
