"""Engine behaviour: graph order, fan-out/fan-in, when, required, retries, timeouts, templates,
resume and replay."""

import time

import pytest
from django.core.management import CommandError

from apps.orchestration.definition_orchestrator import DefinitionBasedOrchestrator
from apps.orchestration.models import PipelineDefinition, PipelineRun
from apps.orchestration.nodes import NODE_TYPES, get_handler
from apps.orchestration.nodes.base import NodeFailed, NodeHandler
from apps.orchestration.services import RunError, replay_run, resume_run

pytestmark = pytest.mark.django_db

CALLS: list[str] = []
FLAKY = {"failures_left": 0, "sleep_s": 0.0}


class FlakyNode(NodeHandler):
    """Fails while FLAKY['failures_left'] > 0; optionally sleeps."""

    type_name = "flaky"
    side_effects = False

    def validate_config(self, config, known_nodes):
        return []

    def run(self, ctx, config):
        CALLS.append(ctx.node_id)
        if FLAKY["sleep_s"]:
            time.sleep(FLAKY["sleep_s"])
        if FLAKY["failures_left"] > 0:
            FLAKY["failures_left"] -= 1
            raise NodeFailed("flaky failure")
        return {"attempt": ctx.attempt, "config": config}


@pytest.fixture(autouse=True)
def flaky_type(monkeypatch):
    CALLS.clear()
    FLAKY.update(failures_left=0, sleep_s=0.0)
    monkeypatch.setitem(NODE_TYPES, "flaky", f"{__name__}.FlakyNode")  # a test-only type
    get_handler.cache_clear()
    yield
    get_handler.cache_clear()


def execute(config, payload=None, name="t"):
    definition = PipelineDefinition.objects.create(name=name, config=config)
    orchestrator = DefinitionBasedOrchestrator(definition)
    assert orchestrator.validate() == []
    return orchestrator.execute(payload if payload is not None else {"server": "web-01"})


def by_id(result):
    return {n["id"]: n for n in result["nodes"]}


def test_fan_out_and_fan_in_run_each_node_once():
    result = execute(
        {
            "nodes": [
                {"id": "start", "type": "flaky", "next": ["left", "right"]},
                {"id": "left", "type": "flaky", "next": "join"},
                {"id": "right", "type": "flaky", "next": "join"},
                {"id": "join", "type": "flaky"},
            ]
        }
    )
    assert result["status"] == "COMPLETED"
    assert CALLS == ["start", "left", "right", "join"]
    assert [n["id"] for n in result["nodes"]] == CALLS


def test_when_false_skips_node_and_what_only_it_reaches():
    result = execute(
        {
            "nodes": [
                {"id": "start", "type": "flaky", "next": ["gate", "always"]},
                {
                    "id": "gate",
                    "type": "flaky",
                    "when": "payload.severity == 'critical'",
                    "next": "page",
                },
                {"id": "page", "type": "flaky"},
                {"id": "always", "type": "flaky"},
            ]
        },
        {"severity": "info"},
    )
    nodes = by_id(result)
    assert result["status"] == "COMPLETED"
    assert nodes["gate"]["status"] == "SKIPPED"
    assert "condition is false" in nodes["gate"]["reason"]
    assert (
        nodes["page"]["status"] == "SKIPPED"
        and "predecessors were skipped" in nodes["page"]["reason"]
    )
    assert nodes["always"]["status"] == "SUCCEEDED"
    run = PipelineRun.objects.get(pk=result["run_id"])
    assert run.stages.get(node_id="page").reason


def test_a_disabled_node_is_skipped_and_its_successors_run_as_if_it_were_absent():
    result = execute(
        {
            "nodes": [
                {"id": "start", "type": "flaky", "enabled": False, "next": ["left", "gate"]},
                {"id": "left", "type": "flaky", "next": "join"},
                {"id": "gate", "type": "flaky", "when": "false", "next": "join"},
                {"id": "join", "type": "flaky", "enabled": False, "next": "end"},
                {"id": "end", "type": "flaky"},
            ]
        }
    )
    nodes = by_id(result)
    assert result["status"] == "COMPLETED"
    assert CALLS == ["left", "end"]
    assert nodes["start"]["status"] == nodes["join"]["status"] == "SKIPPED"
    assert nodes["start"]["reason"] == "disabled in the definition (enabled: false)"
    assert nodes["gate"]["status"] == "SKIPPED"  # its own when, not its disabled predecessor
    run = PipelineRun.objects.get(pk=result["run_id"])
    assert run.stages.count() == 5


def test_edges_pass_through_a_disabled_node():
    """A branch closed by `when` stays closed behind a disabled node: no page goes out."""
    result = execute(
        {
            "nodes": [
                {"id": "start", "type": "flaky", "next": "gate"},
                {"id": "gate", "type": "flaky", "when": "payload.severity == 'critical'",
                 "next": "off"},
                {"id": "off", "type": "flaky", "enabled": False, "next": "page"},
                {"id": "page", "type": "flaky"},
            ]
        },
        {"severity": "info"},
    )  # fmt: skip
    nodes = by_id(result)
    assert CALLS == ["start"]
    assert nodes["page"]["status"] == "SKIPPED"
    assert nodes["page"]["reason"] == "all predecessors were skipped: gate"


def test_a_fan_in_behind_a_disabled_node_waits_on_what_came_before_it():
    result = execute(
        {
            "nodes": [
                {"id": "start", "type": "flaky", "next": ["off", "gate"]},
                {"id": "off", "type": "flaky", "enabled": False, "next": "join"},
                {"id": "gate", "type": "flaky", "when": "false", "next": "join"},
                {"id": "join", "type": "flaky"},
            ]
        }
    )
    assert by_id(result)["join"]["status"] == "SUCCEEDED"  # start ran, through 'off'
    assert CALLS == ["start", "join"]


def test_a_disabled_start_counts_as_a_predecessor_that_ran():
    result = execute(
        {
            "nodes": [
                {"id": "ingest", "type": "flaky", "enabled": False, "next": ["enrich", "notify"]},
                {"id": "enrich", "type": "flaky", "when": "false", "next": "notify"},
                {"id": "notify", "type": "flaky"},
            ]
        }
    )
    assert by_id(result)["notify"]["status"] == "SUCCEEDED"  # as with 'ingest' enabled
    assert CALLS == ["notify"]


def test_long_chains_and_diamonds_of_disabled_nodes_are_cheap():
    chain = [{"id": "start", "type": "flaky", "next": "d0"}]
    chain += [
        {"id": f"d{i}", "type": "flaky", "enabled": False, "next": f"d{i + 1}"} for i in range(1200)
    ]
    chain.append({"id": "d1200", "type": "flaky"})
    started = time.monotonic()
    result = execute({"nodes": chain}, name="chain")
    assert result["status"] == "COMPLETED" and CALLS == ["start", "d1200"]
    layers = [["start"]] + [[f"l{k}a", f"l{k}b"] for k in range(25)] + [["end"]]
    nodes = []
    for depth, layer in enumerate(layers):
        following = layers[depth + 1] if depth + 1 < len(layers) else None
        for node_id in layer:
            node = {"id": node_id, "type": "flaky", "next": following}
            node["enabled"] = node_id in ("start", "end")
            nodes.append(node)
    CALLS.clear()
    result = execute({"nodes": nodes}, name="diamonds")
    assert CALLS == ["start", "end"]
    assert time.monotonic() - started < 20


def test_when_can_read_earlier_node_outputs():
    result = execute(
        {
            "nodes": [
                {
                    "id": "a",
                    "type": "transform",
                    "config": {"mapping": {"level": "payload.level"}},
                    "next": "b",
                },
                {
                    "id": "b",
                    "type": "flaky",
                    "when": "nodes.a.output.level in ['critical', 'warning']",
                },
            ]
        },
        {"level": "warning"},
    )
    assert by_id(result)["b"]["status"] == "SUCCEEDED"


def test_optional_node_failure_lets_the_run_continue():
    FLAKY["failures_left"] = 1
    result = execute(
        {
            "nodes": [
                {"id": "maybe", "type": "flaky", "required": False, "next": "after"},
                {"id": "after", "type": "flaky"},
            ]
        }
    )
    assert result["status"] == "COMPLETED"
    assert by_id(result)["maybe"]["status"] == "FAILED"
    assert by_id(result)["after"]["status"] == "SUCCEEDED"


def test_required_failure_fails_run_and_marks_rest_not_run():
    FLAKY["failures_left"] = 5
    result = execute(
        {
            "nodes": [
                {"id": "a", "type": "flaky", "next": "b"},
                {"id": "b", "type": "flaky"},
            ]
        }
    )
    assert result["status"] == "FAILED" and "flaky failure" in result["error"]
    assert by_id(result)["b"]["status"] == "NOT_RUN" and by_id(result)["b"]["reason"]
    assert [n["id"] for n in result["nodes"]] == ["a", "b"]


def test_retries_record_each_attempt():
    FLAKY["failures_left"] = 2
    result = execute(
        {
            "defaults": {"retries": 0, "retry_backoff_s": 0},
            "nodes": [{"id": "a", "type": "flaky", "retries": 2, "retry_backoff_s": 0}],
        }
    )
    node = by_id(result)["a"]
    assert result["status"] == "COMPLETED" and node["attempts"] == 3
    stage = PipelineRun.objects.get(pk=result["run_id"]).stages.get()
    assert [a["status"] for a in stage.attempt_log] == ["FAILED", "FAILED", "SUCCEEDED"]


def test_defaults_apply_to_nodes():
    FLAKY["failures_left"] = 1
    result = execute(
        {"defaults": {"retries": 1, "retry_backoff_s": 0}, "nodes": [{"id": "a", "type": "flaky"}]}
    )
    assert by_id(result)["a"]["attempts"] == 2


def test_timeout_fails_the_node():
    FLAKY["sleep_s"] = 0.3
    result = execute({"nodes": [{"id": "slow", "type": "flaky", "timeout_s": 0.1}]})
    assert result["status"] == "FAILED"
    assert "timed out after 0.1s" in by_id(result)["slow"]["error"]


def test_templated_config_is_rendered_and_undefined_values_fail_naming_the_expression():
    result = execute(
        {
            "nodes": [
                {
                    "id": "a",
                    "type": "flaky",
                    "config": {"host": "{{ payload.server }}"},
                    "next": "b",
                },
                {"id": "b", "type": "flaky", "config": {"x": "{{ payload.nope.deeper }}"}},
            ]
        }
    )
    assert by_id(result)["a"]["output"]["config"] == {"host": "web-01"}
    assert by_id(result)["b"]["status"] == "FAILED"
    assert "payload.nope.deeper" in by_id(result)["b"]["error"]


def test_templates_cannot_escape_the_sandbox():
    result = execute(
        {
            "nodes": [
                {"id": "a", "type": "flaky", "config": {"x": "{{ payload.__class__.__mro__ }}"}},
            ]
        }
    )
    assert result["status"] == "FAILED"


def test_resume_reruns_from_failed_node_reusing_outputs():
    FLAKY["failures_left"] = 1
    first = execute(
        {
            "nodes": [
                {
                    "id": "a",
                    "type": "transform",
                    "config": {"mapping": {"s": "payload.server"}},
                    "next": "b",
                },
                {"id": "b", "type": "flaky", "next": "c"},
                {"id": "c", "type": "flaky"},
            ]
        }
    )
    assert first["status"] == "FAILED" and CALLS == ["b"]
    from datetime import timedelta

    from django.utils import timezone

    an_hour_ago = timezone.now() - timedelta(hours=1)  # resumed an hour after it failed
    PipelineRun.objects.filter(pk=first["run_id"]).update(
        started_at=an_hour_ago, finished_at=an_hour_ago + timedelta(seconds=1)
    )
    resumed = resume_run(first["run_id"])
    assert resumed["run_id"] == first["run_id"] and resumed["status"] == "COMPLETED"
    assert CALLS == ["b", "b", "c"]
    assert resumed["duration_ms"] < 60_000  # the executions add up, not the hour between
    nodes = by_id(resumed)
    assert nodes["a"]["attempts"] == 1 and nodes["b"]["attempts"] == 2
    assert PipelineRun.objects.count() == 1


def test_resume_refuses_a_run_that_did_not_fail():
    result = execute({"nodes": [{"id": "a", "type": "flaky"}]})
    with pytest.raises(RunError, match="Only FAILED runs can be resumed"):
        resume_run(result["run_id"])
    with pytest.raises(RunError, match="not found"):
        resume_run(999999)


def test_replay_runs_input_again_optionally_on_another_definition():
    first = execute(
        {
            "nodes": [
                {"id": "a", "type": "transform", "config": {"mapping": {"s": "payload.server"}}}
            ]
        }
    )
    other = PipelineDefinition.objects.create(
        name="edited",
        config={
            "nodes": [
                {"id": "z", "type": "transform", "config": {"mapping": {"host": "payload.server"}}}
            ]
        },
    )
    replay = replay_run(first["run_id"], other)
    assert replay["replay_of"] == first["run_id"] and replay["run_id"] != first["run_id"]
    assert replay["definition"] == "edited"
    assert by_id(replay)["z"]["output"] == {"host": "web-01"}


def test_resume_and_replay_from_the_command(run_cmd):
    FLAKY["failures_left"] = 1
    first = execute({"nodes": [{"id": "a", "type": "flaky"}]}, name="cmd")
    resumed = run_cmd("--resume", str(first["run_id"]), "--json").json()
    assert resumed["status"] == "COMPLETED" and resumed["nodes"][0]["attempts"] == 2
    replayed = run_cmd("--replay", str(first["run_id"]), "--json").json()
    assert replayed["replay_of"] == first["run_id"]
    with pytest.raises(CommandError, match="Only FAILED runs"):
        run_cmd("--resume", str(first["run_id"]))


def test_secrets_in_outputs_are_redacted_in_records():
    result = execute(
        {
            "nodes": [
                {
                    "id": "a",
                    "type": "transform",
                    "config": {"mapping": {"api_key": "payload.key", "note": "payload.note"}},
                }
            ]
        },
        {"key": "abc123secret", "note": "Authorization: Bearer abcdefghijklmnopqrstuvwxyz"},
    )
    stage = PipelineRun.objects.get(pk=result["run_id"]).stages.get()
    assert "abc123secret" not in str(stage.output) and "abcdefghijklmnop" not in str(stage.output)
    assert "abc123secret" not in str(result)


def test_resume_does_not_resend_delivered_notifications(http_sink):
    FLAKY["failures_left"] = 1
    first = execute(
        {
            "nodes": [
                {
                    "id": "tell",
                    "type": "notify",
                    "config": {"driver": "generic", "url": f"{http_sink.url}/t"},
                    "next": "after",
                },
                {"id": "after", "type": "flaky"},
            ]
        }
    )
    assert first["status"] == "FAILED" and len(http_sink.requests) == 1
    resumed = resume_run(first["run_id"])
    assert resumed["status"] == "COMPLETED"
    assert len(http_sink.requests) == 1  # delivered once, not again on resume
    assert by_id(resumed)["tell"]["attempts"] == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_one_run_run_it_once():
    import threading

    from apps.orchestration.services import claim_run, create_run

    definition = PipelineDefinition.objects.create(
        name="claim", config={"nodes": [{"id": "a", "type": "flaky"}]}
    )
    run = create_run(definition, {}, source="api")
    barrier = threading.Barrier(2)
    results = []

    def worker(name):
        barrier.wait()
        results.append(claim_run(run.pk, name))

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True]


def test_context_metrics_are_reachable_from_templates():
    result = execute(
        {
            "nodes": [
                {
                    "id": "metrics",
                    "type": "context",
                    "config": {"include": ["cpu", "memory"]},
                    "next": "t",
                },
                {
                    "id": "t",
                    "type": "transform",
                    "config": {
                        "mapping": {
                            "cpu": "{{ nodes.metrics.output.cpu.percent }}",
                            "checks": "nodes.metrics.output.checks_run",
                        }
                    },
                },
            ]
        },
        payload={},  # no host named: this machine
    )
    output = by_id(result)["t"]["output"]
    assert output["checks"] == 2 and float(output["cpu"]) >= 0


def test_a_queued_resumed_or_replayed_run_executes_its_whole_input(settings):
    """Was: an input over PIPELINE_OUTPUT_MAX_BYTES was stored as a preview, and a queued run,
    a resume or a replay executed the preview (the context node then looked at the hub)."""
    from apps.orchestration.services import create_run, execute_run

    settings.PIPELINE_OUTPUT_MAX_BYTES = 1024
    config = {"nodes": [{"id": "a", "type": "transform",
                         "config": {"mapping": {"s": "payload.server"}}, "next": "b"},
                        {"id": "b", "type": "flaky"}]}  # fmt: skip
    definition = PipelineDefinition.objects.create(name="big", config=config)
    payload = {"server": "web-07", "blob": "x" * 5000}
    queued = create_run(definition, payload, source="api")
    assert PipelineRun.objects.get(pk=queued.pk).payload == payload
    FLAKY["failures_left"] = 1
    first = execute_run(queued.pk)
    assert first["status"] == "FAILED"
    assert by_id(first)["a"]["output"] == {"s": "web-07"}
    assert resume_run(queued.pk)["status"] == "COMPLETED"
    replayed = replay_run(queued.pk)
    assert by_id(replayed)["a"]["output"] == {"s": "web-07"}
    again = PipelineRun.objects.get(pk=replayed["run_id"])
    assert again.payload == payload
    assert (again.definition_id, again.definition_version) == (definition.pk, definition.version)


def test_a_notify_node_with_nowhere_to_send_is_not_retried_but_a_refused_send_is(
    settings, http_sink
):
    """Was: an unset SLACK_WEBHOOK_URL cost every retry and its backoff (docs: not retried)."""
    settings.SLACK_WEBHOOK_URL = ""
    settings.NOTIFY_MAX_ATTEMPTS = 1
    page = {"id": "page", "type": "notify", "retries": 2, "retry_backoff_s": 0}
    nowhere = execute({"nodes": [{**page, "config": {"driver": "slack"}}]}, name="nowhere")
    assert by_id(nowhere)["page"]["attempts"] == 1
    assert "no slack destination" in by_id(nowhere)["page"]["error"]
    blocked = execute(  # refused by the outbound policy's decision: nothing connects
        {"nodes": [{**page, "config": {"driver": "generic", "url": "http://169.254.169.254/x"}}]},
        name="blocked",
    )
    assert by_id(blocked)["page"]["attempts"] == 1
    assert "always blocked" in by_id(blocked)["page"]["error"]
    http_sink.responses[:] = [(500, {}, b"down")]
    refused = execute(
        {"nodes": [{**page, "config": {"driver": "generic", "url": f"{http_sink.url}/hook"}}]},
        name="refused",
    )
    assert by_id(refused)["page"]["attempts"] == 3 and len(http_sink.requests) == 3
