"""The fuzz corpus: every fixture payload with each leaf replaced by a wrong type, a huge or odd
number or invalid Unicode, sent to every endpoint that takes a body (webhooks, agent snapshots,
the definitions API). Zero server errors; the numbers and text no database can store are a 400
that says why.

Bounded: each leaf gets one variant in turn (all variants for the first leaves of each file), so
the corpus is a few thousand requests, the same on every run.
"""

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from apps.common.models import ApiKey

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]
PAYLOADS = sorted((ROOT / "tests" / "fixtures" / "payloads").glob("*/*.json"))
PIPELINES = sorted((ROOT / "pipelines").glob("*.json"))
MARK = "__FUZZ_VALUE__"

# Replacements written as JSON text: some have no Python value that json.dumps would write.
WRONG_TYPES = ["null", "true", "0", "-1", "1.5", '""', '"x"', "[]", "{}", '[{"a": [1]}]']
ODD_NUMBERS = [
    "1" + "0" * 5000,
    "-" + "9" * 4301,
    "1e999",
    "-1e999",
    "NaN",
    "Infinity",
    "-Infinity",
]
BAD_TEXT = ['"\\ud800"', '"a\\udfffb"', '"\\u0000"', '"\\ud83d"']
LONG = ['"' + "x" * 100_000 + '"', "1e308", "-0", "123456789012345678901234567890"]
VARIANTS = WRONG_TYPES + ODD_NUMBERS + BAD_TEXT + LONG
MUST_REFUSE = set(ODD_NUMBERS[:2] + ODD_NUMBERS[2:] + BAD_TEXT)  # no database stores these
ALL_VARIANTS_FOR_FIRST = 3


def leaves(value: Any, path: tuple = ()) -> Iterator[tuple]:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path


def replaced(document: Any, path: tuple, variant: str) -> str:
    copy = json.loads(json.dumps(document))
    if not path:
        return variant
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = MARK
    return json.dumps(copy).replace(json.dumps(MARK), variant, 1)


def corpus(document: Any) -> Iterator[tuple[tuple, str, str]]:
    rotation = itertools.cycle(VARIANTS)
    for number, path in enumerate(leaves(document)):
        chosen = VARIANTS if number < ALL_VARIANTS_FOR_FIRST else [next(rotation)]
        for variant in chosen:
            yield path, variant, replaced(document, path, variant)


def check(answer: Any, what: str, variant: str, failures: list[str]) -> None:
    if answer.status_code >= 500:
        failures.append(
            f"{answer.status_code} for {what} with {variant[:30]}: {answer.content[:200]!r}"
        )
    elif variant in MUST_REFUSE and answer.status_code != 400:
        failures.append(f"{answer.status_code} (not 400) for {what} with {variant[:30]}")
    elif answer.status_code == 400 and "\n" in answer.json().get("message", ""):
        failures.append(f"multi-line 400 for {what}")


@pytest.fixture
def keys(settings):
    settings.INGEST_START_RUNS = False
    scopes = ("ingest", "read", "write", "execute")
    keys = {scope: ApiKey.create_key(f"fuzz-{scope}", [scope])[1] for scope in scopes}
    keys["all"] = ApiKey.create_key("fuzz-all", list(scopes))[1]
    return keys


def post(client: Client, url: str, body: str, key: str):
    return client.generic(
        "POST",
        url,
        body.encode("utf-8", "surrogatepass"),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


def test_webhooks_answer_every_corrupted_fixture_without_a_server_error(keys):
    client, failures, sent = Client(), [], 0
    for path in PAYLOADS:
        document = json.loads(path.read_text())
        vendor = path.parent.name
        for where, variant, body in corpus(document):
            answer = post(client, f"/api/alerts/{vendor}/", body, keys["ingest"])
            sent += 1
            check(answer, f"{path.name}{list(where)}", variant, failures)
    assert sent > 1000
    assert failures == [], "\n".join(failures[:20])


def snapshot_body() -> dict:
    return {
        "observed_at": timezone.now().isoformat(),
        "interval_s": 60,
        "agent_version": "0.1.0",
        "host": {"os": "Linux 6.1", "uptime_s": 86400, "cpu_count": 4},
        "checks": {
            "memory": {
                "status": "ok",
                "message": "memory 30.0% used",
                "readings": {"percent": 30.0, "total_bytes": 2**34, "available_bytes": 2**33},
            },
            "load": {
                "status": "ok",
                "message": "load 0.5",
                "readings": {"load1": 0.5, "cpu_count": 4},
            },
        },
    }


def test_snapshots_answer_every_corrupted_body_without_a_server_error(keys):
    client, failures = Client(), []
    document = snapshot_body()
    for where, variant, body in corpus(document):
        answer = post(client, "/api/hosts/web-1/snapshots", body, keys["ingest"])
        check(answer, f"snapshot{list(where)}", variant, failures)
    assert failures == [], "\n".join(failures[:20])


def test_definitions_api_answers_every_corrupted_definition_without_a_server_error(keys):
    client, failures = Client(), []
    for path in PIPELINES:
        config = json.loads(path.read_text())
        for number, (where, variant, body) in enumerate(corpus(config)):
            create = f'{{"name": "fuzz-{number}", "config": {body}}}'
            answer = post(client, "/api/definitions/", create, keys["write"])
            check(answer, f"create {path.name}{list(where)}", variant, failures)
            validate = f'{{"config": {body}}}'
            answer = post(client, "/api/definitions/x/validate", validate, keys["read"])
            if answer.status_code != 404:
                check(answer, f"validate {path.name}{list(where)}", variant, failures)
    assert failures == [], "\n".join(failures[:20])


def test_run_payloads_answer_every_corrupted_fixture_without_a_server_error(keys):
    client, failures = Client(), []
    create = {"name": "fuzz-run", "config": json.loads(PIPELINES[0].read_text())}
    answer = post(client, "/api/definitions/", json.dumps(create), keys["write"])
    assert answer.status_code == 201, answer.content
    document = json.loads(
        (ROOT / "tests/fixtures/payloads/alertmanager").glob("*.json").__next__().read_text()
    )
    for where, variant, body in corpus(document):
        answer = post(
            client, "/api/definitions/fuzz-run/dry-run", f'{{"payload": {body}}}', keys["all"]
        )
        check(answer, f"dry-run payload{list(where)}", variant, failures)
    assert failures == [], "\n".join(failures[:20])
