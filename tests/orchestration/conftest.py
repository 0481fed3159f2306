import json
from io import StringIO

import pytest
from django.core.management import call_command

from apps.orchestration.models import PipelineDefinition

SPEC_CONFIG = {
    "version": "1",
    "description": "Spec example",
    "nodes": [
        {
            "id": "metrics",
            "type": "context",
            "config": {"include": ["cpu", "memory", "disk"]},
            "next": "analyze",
        },
        {
            "id": "analyze",
            "type": "intelligence",
            "config": {"provider": "openai"},
            "next": "notify",
        },
        {"id": "notify", "type": "notify", "config": {"driver": "slack"}},
    ],
}

TRANSFORM_CONFIG = {
    "nodes": [
        {
            "id": "a",
            "type": "transform",
            "config": {"mapping": {"server": "payload.server"}},
            "next": "b",
        },
        {
            "id": "b",
            "type": "transform",
            "config": {
                "mapping": {"host": "nodes.a.output.server", "line": "Host {{ payload.server }}"}
            },
            "next": "c",
        },
        {"id": "c", "type": "transform", "config": {"mapping": {"final": "nodes.b.output.host"}}},
    ]
}


class Ran:
    def __init__(self, out: str, err: str):
        self.out, self.err = out, err

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def run_cmd():
    def run(*args: str) -> Ran:
        out, err = StringIO(), StringIO()
        call_command("run_pipeline", *args, stdout=out, stderr=err)
        return Ran(out.getvalue(), err.getvalue())

    return run


@pytest.fixture
def config_file(tmp_path):
    def write(config, name="pipeline.json") -> str:
        path = tmp_path / name
        path.write_text(json.dumps(config) if not isinstance(config, str) else config)
        return str(path)

    return write


@pytest.fixture
def spec_definition(db):
    return PipelineDefinition.objects.create(name="health-check", config=SPEC_CONFIG)
