"""The admin: definitions validated on save with the graph beside them; runs as timelines."""

import json

import pytest
from django.urls import reverse

from apps.orchestration.definition_orchestrator import DefinitionBasedOrchestrator
from apps.orchestration.models import PipelineDefinition, PipelineDefinitionRevision, PipelineRun

CONFIG = {
    "version": "1",
    "description": "Three transforms",
    "nodes": [
        {
            "id": "grab",
            "type": "transform",
            "config": {"mapping": {"server": "payload.server"}},
            "next": "shape",
        },
        {
            "id": "shape",
            "type": "transform",
            "config": {"mapping": {"line": "Host {{ nodes.grab.output.server }}"}},
            "next": "finish",
        },
        {
            "id": "finish",
            "type": "transform",
            "config": {"mapping": {"done": "nodes.shape.output.line"}},
        },
    ],
}
INVALID = {
    "nodes": [
        {"id": "analyze", "type": "ai", "next": "notify"},
        {"id": "notify", "type": "notify", "config": {"driver": "console"}, "next": "missing"},
        {"id": "metrics", "type": "context", "config": {"include": ["nope"]}},
    ]
}
ADD_URL = reverse("admin:orchestration_pipelinedefinition_add")


def form_data(config, revisions: int = 0, **fields) -> dict:
    data = {
        "name": "web",
        "description": "",
        "is_active": "on",
        "priority": "100",
        "match": "",
        "config": config if isinstance(config, str) else json.dumps(config),
        "revisions-TOTAL_FORMS": str(revisions),
        "revisions-INITIAL_FORMS": str(revisions),
        "revisions-MIN_NUM_FORMS": "0",
        "revisions-MAX_NUM_FORMS": "0",
    }
    data.update(fields)
    return data


def change_url(definition: PipelineDefinition) -> str:
    return reverse("admin:orchestration_pipelinedefinition_change", args=[definition.pk])


def test_saving_an_invalid_config_shows_errors_per_node_and_stores_nothing(admin_client):
    response = admin_client.post(ADD_URL, form_data(INVALID))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Node &#x27;analyze&#x27; has unknown type: ai" in page
    assert "Node &#x27;notify&#x27; references non-existent next: &#x27;missing&#x27;" in page
    assert "unknown check &#x27;nope&#x27;" in page
    for node in ("analyze", "notify", "metrics"):
        assert f'data-node="{node}"' in page  # the per-node problem table
    assert "/nodes/0/type" in page
    assert "Not drawn: fix the problems above first." in page
    assert not PipelineDefinition.objects.exists()


def test_bad_json_and_bad_match_are_form_errors(admin_client):
    response = admin_client.post(ADD_URL, form_data("{ not json"))
    assert response.status_code == 200
    assert "Enter a valid JSON." in response.content.decode()
    response = admin_client.post(ADD_URL, form_data(CONFIG, match='{"colour": "red"}'))
    assert "unknown match key" in response.content.decode()
    assert not PipelineDefinition.objects.exists()


def test_valid_add_then_change_bumps_the_version_and_keeps_the_revision(admin_client):
    response = admin_client.post(ADD_URL, form_data(CONFIG))
    assert response.status_code == 302, response.content.decode()[:2000]
    definition = PipelineDefinition.objects.get(name="web")
    assert (definition.version, definition.config) == (1, CONFIG)

    changed = {**CONFIG, "defaults": {"retries": 2}}
    response = admin_client.post(change_url(definition), form_data(changed))
    assert response.status_code == 302, response.content.decode()[:2000]
    definition.refresh_from_db()
    assert definition.version == 2
    assert definition.config == changed
    assert PipelineDefinitionRevision.objects.get(definition=definition, version=1).config == CONFIG


def test_an_unchanged_config_keeps_the_version(admin_client):
    definition = PipelineDefinition.objects.create(name="web", config=CONFIG)
    response = admin_client.post(change_url(definition), form_data(CONFIG, description="new words"))
    assert response.status_code == 302
    definition.refresh_from_db()
    assert (definition.version, definition.description) == (1, "new words")


def test_an_invalid_change_keeps_the_stored_config(admin_client):
    definition = PipelineDefinition.objects.create(name="web", config=CONFIG)
    response = admin_client.post(change_url(definition), form_data(INVALID))
    assert response.status_code == 200
    definition.refresh_from_db()
    assert (definition.version, definition.config) == (1, CONFIG)
    assert not PipelineDefinitionRevision.objects.exists()


def test_change_page_draws_the_graph_and_lists_revisions_read_only(admin_client):
    definition = PipelineDefinition.objects.create(name="web", config=CONFIG)
    definition.config = {**CONFIG, "description": "second"}
    definition.save()
    page = admin_client.get(change_url(definition)).content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="pipeline-graph"' in page
    for node in ("grab", "shape", "finish"):
        assert f'data-node="{node}"' in page
    assert "<script" not in page.split('id="pipeline-graph"')[1].split("</aside>")[0]
    assert "flowchart TD" in page  # the mermaid text beside it
    assert "earlier versions (read-only)" in page.lower()
    assert "Three transforms" in page  # revision 1's config, shown read-only
    assert 'name="revisions-0-config"' not in page


def test_graph_text_is_escaped(admin_client):
    config = {
        "nodes": [
            {
                "id": "a",
                "type": "transform",
                "config": {"mapping": {"x": "payload.x"}},
                "next": "b",
            },
            {
                "id": "b",
                "type": "transform",
                "when": "'<script>' != ''",
                "config": {"mapping": {"y": "payload.y"}},
            },
        ]
    }
    definition = PipelineDefinition.objects.create(name="web", config=config)
    page = admin_client.get(change_url(definition)).content.decode()
    assert "<script>" not in page.split('id="pipeline-graph"')[1]


def _finished_run(config: dict, payload: dict) -> PipelineRun:
    definition = PipelineDefinition.objects.create(name="timeline", config=config)
    result = DefinitionBasedOrchestrator(definition).execute(payload, source="cli")
    return PipelineRun.objects.get(pk=result["run_id"])


FAILING = {
    "nodes": [
        {
            "id": "grab",
            "type": "transform",
            "config": {"mapping": {"server": "payload.server"}},
            "next": ["maybe", "broken"],
        },
        {
            "id": "maybe",
            "type": "transform",
            "when": "payload.server == 'db-01'",
            "config": {"mapping": {"x": "payload.server"}},
        },
        {
            "id": "broken",
            "type": "transform",
            "config": {"mapping": {"x": "payload.absent"}},
            "next": "after",
        },
        {"id": "after", "type": "transform", "config": {"mapping": {"y": "payload.server"}}},
    ]
}


def test_run_page_shows_each_node_as_a_timeline(admin_client):
    run = _finished_run(FAILING, {"server": "web-01"})
    assert run.status == "FAILED"
    url = reverse("admin:orchestration_pipelinerun_change", args=[run.pk])
    page = admin_client.get(url).content.decode()
    for node, status in (
        ("grab", "SUCCEEDED"),
        ("maybe", "SKIPPED"),
        ("broken", "FAILED"),
        ("after", "NOT_RUN"),
    ):
        row = page.split(f'id="node-{node}"')[1].split("</tr>")[0]
        assert status in row, node
    broken = page.split('id="node-broken"')[1].split("</tr>")[0]
    assert "path &#x27;payload.absent&#x27; not found" in broken
    assert 'class="bar"' in broken
    skipped = page.split('id="node-maybe"')[1].split("</tr>")[0]
    assert "condition is false" in skipped
    assert "&quot;server&quot;: &quot;web-01&quot;" in page  # grab's output
    assert 'name="stages-0-status"' not in page  # the stage inline is read-only
    assert 'name="_save"' not in page


def test_run_list_shows_status_definition_version_duration_and_filters(admin_client):
    run = _finished_run(CONFIG, {"server": "web-01"})
    url = reverse("admin:orchestration_pipelinerun_changelist")
    page = admin_client.get(url).content.decode()
    assert "COMPLETED" in page and "timeline" in page
    assert f"{run.duration_ms:.0f} ms" in page
    assert (
        reverse("admin:orchestration_pipelinedefinition_change", args=[run.definition_id]) in page
    )
    filtered = admin_client.get(url, {"status__exact": "FAILED"}).content.decode()
    assert "0 pipeline runs" in filtered
    assert (
        admin_client.get(url, {"status__exact": "COMPLETED"}).content.decode().count("COMPLETED")
        >= 1
    )


def test_runs_cannot_be_added_or_edited(admin_client):
    run = _finished_run(CONFIG, {"server": "web-01"})
    assert admin_client.get(reverse("admin:orchestration_pipelinerun_add")).status_code == 403
    url = reverse("admin:orchestration_pipelinerun_change", args=[run.pk])
    response = admin_client.post(url, {"status": "COMPLETED", "error": "edited"})
    assert response.status_code == 403
    run.refresh_from_db()
    assert run.error == ""


@pytest.fixture(autouse=True)
def _db_and_fast_passwords(db, settings):
    """Every test here uses the database; a cheap hasher keeps admin_client's login fast."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_add_page_offers_the_editor_and_says_the_graph_comes_after_saving(admin_client):
    page = admin_client.get(ADD_URL).content.decode()
    assert 'name="config"' in page
    assert "Save a valid definition to see its graph." in page


def test_an_empty_config_is_refused(admin_client):
    response = admin_client.post(ADD_URL, form_data("{}"))
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not PipelineDefinition.objects.exists()
