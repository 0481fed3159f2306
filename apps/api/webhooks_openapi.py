"""The webhook endpoints in the OpenAPI document.

The webhooks (`apps.api.webhooks`) are plain Django views, kept off django-ninja for speed, so
ninja does not see them; this describes them for the same document and Swagger page.
"""

from typing import Any

# What apps.hosts.snapshots.valid_host_name accepts (DNS-style names; IPv4 addresses match too).
HOST_NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}(\.[A-Za-z0-9_-]{1,63})*$"

ERROR = {"$ref": "#/components/schemas/ErrorOut"}
ERRORS = {
    "400": "Not JSON, or a payload no vendor parser accepts (`invalid_json`, `rejected_payload`)",
    "401": "No or unknown API key",
    "403": "The key lacks the `ingest` scope",
    "404": "Unknown vendor in the path (`unknown_source`)",
    "405": "Not a POST",
    "411": "A chunked body without Content-Length",
    "413": "A body over INGEST_MAX_BODY_BYTES",
    "503": "The database is busy; retry (a `Retry-After` header says when)",
}
ACCEPTED = {
    "type": "object",
    "title": "WebhookAccepted",
    "required": ["trace_id", "source", "alerts", "incidents", "runs"],
    "properties": {
        "trace_id": {"type": "string"},
        "source": {"type": "string", "description": "The vendor that parsed the payload."},
        "alerts": {
            "type": "object",
            "description": "How many alerts were created, updated, resolved or unchanged.",
            "properties": {
                key: {"type": "integer"} for key in ("created", "updated", "resolved", "unchanged")
            },
        },
        "incidents": {"type": "array", "items": {"type": "integer"}},
        "runs": {
            "type": "array",
            "items": {"type": "integer"},
            "description": "Pipeline runs started for the incidents that changed.",
        },
        "run_errors": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Incidents that got no run, and why (the alerts are stored).",
        },
    },
}


def _operation(summary: str, description: str, vendors: list[str] | None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "tags": ["alerts"],
        "summary": summary,
        "description": description,
        "operationId": "alerts_receive_" + ("vendor" if vendors else "detect"),
        "security": [{"ScopedApiKey": []}],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "object", "description": "The vendor's webhook body."}
                }
            },
        },
        "responses": {
            "200": {
                "description": "A vendor's test notification (New Relic's test, PagerDuty's "
                "pagey.ping): received, nothing stored",
                "content": {"application/json": {"schema": TEST_RECEIVED}},
            },
            "202": {
                "description": "Stored; runs start after the answer",
                "content": {"application/json": {"schema": ACCEPTED}},
            },
            **{
                code: {"description": text, "content": {"application/json": {"schema": ERROR}}}
                for code, text in ERRORS.items()
            },
        },
    }
    if vendors:
        operation["parameters"] = [
            {
                "name": "source",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "enum": vendors},
            }
        ]
    return operation


TEST_RECEIVED = {
    "type": "object",
    "title": "TestReceived",
    "required": ["trace_id", "test", "detail"],
    "properties": {
        "trace_id": {"type": "string"},
        "test": {"type": "boolean", "const": True},
        "detail": {"type": "string"},
    },
}


SNAPSHOT_ACCEPTED = {
    "type": "object",
    "title": "SnapshotAccepted",
    "required": ["trace_id", "host", "changed", "incidents", "runs"],
    "properties": {
        "trace_id": {"type": "string"},
        "host": {"type": "string"},
        "changed": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Checks whose status changed (each ingested as an alert).",
        },
        "incidents": {"type": "array", "items": {"type": "integer"}},
        "runs": {"type": "array", "items": {"type": "integer"}},
    },
}
SNAPSHOT_BODY = {
    "type": "object",
    "title": "Snapshot",
    "required": ["observed_at", "checks"],
    "additionalProperties": False,
    "properties": {
        "observed_at": {"type": "string", "format": "date-time"},
        "interval_s": {"type": "integer", "minimum": 1, "maximum": 86400},
        "agent_version": {"type": "string", "maxLength": 50},
        "host": {"type": "object", "description": "os, kernel, boot_time, uptime_s, cpu_count"},
        "checks": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["status"],
                "properties": {
                    "status": {"enum": ["ok", "warning", "critical", "unknown"]},
                    "message": {"type": "string"},
                    "readings": {"type": "object"},
                    "metrics": {"type": "object"},
                    "duration_ms": {"type": "number"},
                },
            },
        },
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def snapshot_operation() -> dict[str, Any]:
    return {
        "tags": ["hosts"],
        "summary": "Receive an agent's snapshot",
        "description": "What `incident-agent` sends every interval. Needs the `ingest` scope. "
        "A check whose status changed is ingested as an alert (source `checks`).",
        "operationId": "hosts_receive_snapshot",
        "security": [{"ScopedApiKey": []}],
        "parameters": [
            {
                "name": "name",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "maxLength": 253, "pattern": HOST_NAME_PATTERN},
            }
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": SNAPSHOT_BODY}},
        },
        "responses": {
            "202": {
                "description": "Stored",
                "content": {"application/json": {"schema": SNAPSHOT_ACCEPTED}},
            },
            **{
                code: {"description": text, "content": {"application/json": {"schema": ERROR}}}
                for code, text in {
                    "400": "Not JSON, a bad snapshot or host name, or over 256 KiB",
                    "401": "No or unknown API key",
                    "403": "The key lacks the `ingest` scope",
                    "405": "Not a POST",
                    "503": "The database is busy; retry",
                }.items()
            },
        },
    }


def webhook_paths() -> dict[str, Any]:
    from django.urls import reverse

    from apps.alerts.services import CHECKS_SOURCE
    from apps.alerts.vendors import vendor_names

    base = reverse("alerts:webhook")
    snapshots = reverse("host-snapshots", args=["NAME"]).replace("NAME", "{name}")
    return {
        snapshots: {"post": snapshot_operation()},
        base: {
            "post": _operation(
                "Receive alerts (vendor detected)",
                "Any supported vendor's webhook body; the vendor is detected from its shape. "
                "Needs a key with the `ingest` scope.",
                None,
            )
        },
        base + "{source}/": {
            "post": _operation(
                "Receive alerts from a named vendor",
                "The body must be that vendor's format. Needs a key with the `ingest` scope.",
                [*vendor_names(), CHECKS_SOURCE],
            )
        },
    }
