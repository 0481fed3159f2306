"""POST /api/hosts/<name>/snapshots: what agents send (a plain Django view, like the webhooks).

Needs a key with the `ingest` scope. The snapshot is stored in one short transaction and the
answer is 202; a check whose status changed is ingested as an alert (source `checks`), so a
failing check on any server opens an incident and a recovered one resolves it.
"""

import logging
import uuid
from typing import Any

from django.conf import settings
from django.db import DataError, IntegrityError, OperationalError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from apps.alerts.services import IngestError
from apps.common.auth import AuthError, authenticate, json_error
from apps.common.logging import run_context
from apps.hosts.snapshots import SnapshotError, parse_snapshot, valid_host_name
from apps.orchestration.triggers import snapshot_received

from .webhooks import Rejected, busy, read_json

logger = logging.getLogger(__name__)


@csrf_exempt
def receive_snapshot(request: HttpRequest, name: str) -> JsonResponse:
    trace_id = uuid.uuid4().hex
    with run_context(trace_id, None):
        try:
            if request.method != "POST":
                raise Rejected(405, "method_not_allowed", "send snapshots with POST")
            authenticate(request, "ingest")
            name = name.lower()  # as alerts name hosts (apps.alerts.hosts)
            if not valid_host_name(name):
                raise Rejected(400, "invalid_host", f"{name[:100]!r} is not a host name")
            body = read_json(request, settings.HOST_SNAPSHOT_MAX_BYTES, too_large=400)
            snapshot = parse_snapshot(body, known_checks())
            try:
                received = snapshot_received(name, snapshot, trace_id)
            except IntegrityError:  # a first snapshot raced another one of the same new host
                received = snapshot_received(name, snapshot, trace_id)  # now it is known
            return accepted(*received, trace_id)
        except AuthError as exc:
            return exc.response()
        except Rejected as exc:
            return exc.response()
        except SnapshotError as exc:
            return json_error(400, "invalid_snapshot", str(exc))
        except (IngestError, DataError) as exc:
            logger.info("snapshot of %s refused: %s", name, exc)
            return json_error(400, "invalid_snapshot", f"the snapshot cannot be stored: {exc}")
        except (IntegrityError, OperationalError) as exc:
            logger.warning("snapshot of %s could not be written: %s", name, exc)
            return busy("send the snapshot again")


def known_checks() -> set[str]:
    from apps.checkers.checks import CHECKS

    return set(CHECKS)


def accepted(recorded: Any, triggered: list[Any], trace_id: str) -> JsonResponse:
    body = {
        "trace_id": trace_id,
        "host": recorded.host.name,
        "changed": sorted(recorded.changed),
        "incidents": [i.pk for t in triggered for i in t.result.incidents],
        "runs": [run_id for t in triggered for run_id in t.run_ids],
    }
    errors = [error for t in triggered for error in t.run_errors]
    if errors:
        body["run_errors"] = errors
    return JsonResponse(body, status=202)
