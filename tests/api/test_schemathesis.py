"""Schemathesis against the OpenAPI document, on the real app in-process (WSGI): every operation,
a bounded number of examples (derandomised: the same cases on every run) and all its checks: no
server error, answers that match the document, no schema-violating request accepted, and no
schema-valid request rejected except for what a schema cannot say (a definition's graph, a
payload no vendor recognises, a snapshot from a wrong clock)."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from apps.common.models import SCOPES, ApiKey
from config.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
# Strings are text a database can store: PostgreSQL refuses NUL, and so does the server (a 400
# that says so, tested in tests/test_fuzz_corpus.py). The key is the test's (tests/api/test_auth.py
# covers missing and wrong keys), so cases do not mutate it.
schema.config.generation.update(allow_x00=False, with_security_parameters=False)
MAX_EXAMPLES = 30
# Refusals of schema-valid requests whose reason no JSON Schema can express: a definition's
# graph, a payload no vendor recognises, a snapshot's clock, a silence's matcher grammar and times.
SEMANTIC_CODES = {
    "invalid_definition",
    "rejected_payload",
    "invalid_snapshot",
    "invalid_silence",
    "not_found",
}


@schemathesis.check
def valid_requests_accepted(ctx, response, case):
    """positive_data_acceptance, except for the semantic refusals above."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if response.status_code in (400, 422):
        code = (response.json() or {}).get("code")
        if code not in SEMANTIC_CODES:
            raise AssertionError(
                f"schema-valid request refused with {response.status_code} {code}: "
                f"{response.text[:300]}"
            )
    return None


@pytest.fixture
def headers(db, settings):
    settings.INGEST_START_RUNS = False
    _, raw = ApiKey.create_key("schemathesis", list(SCOPES))
    # As Django's test client does: a request must not close the test's database connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield {"Authorization": f"Bearer {raw}"}
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,  # nothing written to .hypothesis/; the same cases every run anyway
    suppress_health_check=list(HealthCheck),
)
def test_the_api_matches_its_document(case, headers):
    case.call_and_validate(
        headers=headers,
        excluded_checks=[positive_data_acceptance],
        additional_checks=[valid_requests_accepted],
    )
