"""Jinja2 in a sandbox, for definition and channel templates only (never request bodies)."""

from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment


class TemplateError(Exception):
    """A template that does not compile or does not render; the message names the template."""


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


@lru_cache(maxsize=1)
def html_environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)


def has_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def check_syntax(source: str) -> str | None:
    """Return a one-line error for a template that does not compile, else None."""
    try:
        environment().parse(source)
    except TemplateSyntaxError as exc:
        return f"template syntax error: {exc.message} (line {exc.lineno})"
    return None


def check_expression(source: str) -> str | None:
    try:
        environment().compile_expression(source)
    except TemplateSyntaxError as exc:
        return f"expression syntax error: {exc.message}"
    return None


@lru_cache(maxsize=512)
def _compiled(source: str, html: bool):
    env = html_environment() if html else environment()
    return env.from_string(source)


def render(source: str, context: dict[str, Any], *, html: bool = False) -> str:
    try:
        return _compiled(source, html).render(**context)
    except UndefinedError as exc:
        raise TemplateError(f"undefined value in template {source!r}: {exc.message}") from exc
    except TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error in {source!r}: {exc.message}") from exc
    except Exception as exc:  # sandbox violations, type errors inside the template
        raise TemplateError(f"cannot render template {source!r}: {exc}") from exc


@lru_cache(maxsize=512)
def _compiled_expression(source: str):
    return environment().compile_expression(source, undefined_to_none=False)


def evaluate(expression: str, context: dict[str, Any]) -> Any:
    try:
        return _compiled_expression(expression)(**context)
    except UndefinedError as exc:
        raise TemplateError(f"undefined value in expression {expression!r}: {exc.message}") from exc
    except TemplateSyntaxError as exc:
        raise TemplateError(f"syntax error in expression {expression!r}: {exc.message}") from exc
    except Exception as exc:
        raise TemplateError(f"cannot evaluate expression {expression!r}: {exc}") from exc


def render_value(value: Any, context: dict[str, Any]) -> Any:
    """Render every templated string inside a config value (dicts and lists recursively)."""
    if isinstance(value, str):
        return render(value, context) if has_template(value) else value
    if isinstance(value, dict):
        return {key: render_value(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [render_value(item, context) for item in value]
    return value
