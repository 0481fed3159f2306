"""The admin form of a PipelineDefinition: JSON edited as text, validated as the CLI does."""

import json
from typing import Any

from django import forms
from django.forms.fields import InvalidJSONInput

from .definition import validate_definition
from .models import PipelineDefinition
from .secrets import mask, seal_definition
from .spec import Problem


class PrettyJSONField(forms.JSONField):
    """A JSON field shown indented, so a definition can be read and edited by hand."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False, cls=self.encoder)


def code_area(rows: int) -> forms.Textarea:
    return forms.Textarea(
        attrs={
            "rows": rows,
            "cols": 80,
            "spellcheck": "false",
            "class": "vLargeTextField",
            "style": "font-family: monospace; width: 100%; box-sizing: border-box;",
        }
    )


def problem_line(problem: Problem) -> str:
    return f"{problem.message} [{problem.path}]" if problem.path else problem.message


def problems_by_node(problems: list[Problem]) -> list[tuple[str, list[Problem]]]:
    """Problems grouped per node, in first-seen order; definition-wide ones under '(definition)'."""
    grouped: dict[str, list[Problem]] = {}
    for problem in problems:
        grouped.setdefault(problem.node or "(definition)", []).append(problem)
    return list(grouped.items())


class PipelineDefinitionForm(forms.ModelForm):
    config = PrettyJSONField(
        widget=code_area(24),
        help_text='The definition: {"version", "description", "defaults", "nodes": [...]}. '
        "See docs/definitions.md. A changed config is saved as a new version.",
    )
    match = PrettyJSONField(
        required=False,
        widget=code_area(4),
        help_text='Routing conditions, e.g. {"source": "grafana", "severity": ["critical"]}; '
        "empty means routing never picks this definition.",
    )

    class Meta:
        model = PipelineDefinition
        fields = ("name", "description", "is_active", "priority", "match", "config")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.problems: list[Problem] = []
        if self.instance.pk:  # secrets are shown as ***; a *** sent back keeps the stored one
            self.initial["config"] = mask(self.instance.config)

    def clean_config(self) -> Any:
        config = self.cleaned_data["config"]
        if self.instance.pk:
            stored = PipelineDefinition.objects.filter(pk=self.instance.pk).first()
            config = seal_definition(config, stored.config if stored else None)
        self.problems = validate_definition(config)
        if self.problems:
            raise forms.ValidationError([problem_line(p) for p in self.problems], code="invalid")
        return config

    def clean_match(self) -> Any:
        match = self.cleaned_data.get("match")
        if match in (None, {}):
            return None
        from apps.orchestration.routing import match_problems

        problems = match_problems(match)
        if problems:
            raise forms.ValidationError(problems, code="invalid")
        return match
