"""Engine throughput: a 3-node transform definition executed in-process on SQLite.

Target (issue "Foundation"): at least 300 runs/s on a 2-core machine.
Usage: python bench/bench_engine.py [RUNS]
"""

import sys
import time

from _setup import django_on_temp_sqlite

DEFINITION = {
    "version": "1",
    "nodes": [
        {
            "id": "pick",
            "type": "transform",
            "config": {"mapping": {"server": "payload.server"}},
            "next": "enrich",
        },
        {
            "id": "enrich",
            "type": "transform",
            "config": {"mapping": {"host": "nodes.pick.output.server", "env": "payload.env"}},
            "next": "summarise",
        },
        {
            "id": "summarise",
            "type": "transform",
            "config": {"mapping": {"line": "{{ nodes.enrich.output.host }} in {{ payload.env }}"}},
        },
    ],
}


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    django_on_temp_sqlite()
    from apps.orchestration.definition_orchestrator import DefinitionBasedOrchestrator
    from apps.orchestration.models import PipelineDefinition, PipelineRun, StageExecution

    definition = PipelineDefinition.objects.create(name="bench-transform", config=DEFINITION)
    orchestrator = DefinitionBasedOrchestrator(definition)
    payload = {"server": "web-01", "env": "prod"}
    for _ in range(20):  # warm-up
        orchestrator.execute(payload, source="cli")
    started = time.perf_counter()
    for _ in range(runs):
        result = orchestrator.execute(payload, source="cli")
        assert result["status"] == "COMPLETED", result
    elapsed = time.perf_counter() - started
    completed = PipelineRun.objects.filter(status="COMPLETED").count() - 20
    stages = StageExecution.objects.count()
    print(f"engine: {runs} runs of a 3-node transform definition on SQLite (WAL)")
    print(f"  runs completed : {completed}")
    print(f"  stage records  : {stages}")
    print(f"  elapsed        : {elapsed:.2f} s")
    print(f"  throughput     : {runs / elapsed:.0f} runs/s (target >= 300)")


if __name__ == "__main__":
    main()
