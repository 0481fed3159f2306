"""Jinja2 in a sandbox, for definition and channel templates only (never request bodies).

Jinja2 is imported on first use: most definitions hold no template, and the CLI starts faster.
Every render is bounded in time (the node's deadline), steps and characters built
(apps.common.template_limits).
"""

import contextlib
import hashlib
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apps.common import template_limits

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment


class TemplateError(Exception):
    """A template that does not compile or does not render; the message names the template."""


MAX_BUILT_ITEMS = 1_000_000  # characters or items a `*` may produce
MAX_EXPONENT = 10_000
MAX_INT_BITS = 1_000_000  # about 300,000 digits
MAX_WIDTH = 10_000  # of a %-format, str.format, center or indent
# Part of each template's cache name: bump it when the generated code changes (a new intercepted
# operator), so no process loads code compiled under the old rules.
CODE_VERSION = "4"


@lru_cache(maxsize=1)
def environment() -> "SandboxedEnvironment":
    return _sandbox(autoescape=False)


@lru_cache(maxsize=1)
def html_environment() -> "SandboxedEnvironment":
    return _sandbox(autoescape=True)


def _sandbox(*, autoescape: bool) -> "SandboxedEnvironment":
    from jinja2 import BaseLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    class SourceLoader(BaseLoader):
        """Hands Jinja the source registered under a name (a digest of the source), so that
        templates given as strings take Jinja's loader path and with it the bytecode cache."""

        def __init__(self) -> None:
            self.pending: dict[str, str] = {}

        def get_source(self, environment: Any, template: str) -> tuple[str, None, Any]:
            return self.pending.pop(template), None, lambda: True

    class BoundedSandbox(SandboxedEnvironment):
        """The sandbox, plus caps on what one operation may build: `'a' * 10**10`,
        `(10**10000) ** 10000` or `'%09999999999d' % 1` would otherwise take the process's
        memory or CPU. Loops, `~`, calls and output count against the render's budget
        (template_limits), so no template runs past its node's deadline."""

        intercepted_binops = frozenset(["*", "**", "%", "+"])

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            _check_binop(operator, left, right)
            template_limits.charge_binop(operator, left, right)
            return super().call_binop(context, operator, left, right)

        def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
            template_limits.check_call(obj, args, MAX_WIDTH)
            return super().call(context, obj, *args, **kwargs)

        def _generate(self, source: Any, *args: Any, **kwargs: Any) -> Any:
            tree = template_limits.instrument(source, bool(self.autoescape))
            return super()._generate(tree, *args, **kwargs)

        def wrap_str_format(self, value: Any) -> Any:
            wrapped = super().wrap_str_format(value)
            if wrapped is None:
                return None
            _check_widths(str(value.__self__), FORMAT_WIDTH_RE)  # the string being formatted
            return wrapped

    environment = BoundedSandbox(
        undefined=StrictUndefined,
        autoescape=autoescape,
        loader=SourceLoader(),
        bytecode_cache=_bytecode_cache(),
    )
    template_limits.bounded_filters(environment.filters)  # inside the width checks below
    for name in ("center", "indent"):  # their width argument sizes the output
        environment.filters[name] = _bounded_width(environment.filters[name])
    plain_format = environment.filters["format"]

    def bounded_format(value: Any, *args: Any, **kwargs: Any) -> Any:
        _check_binop("%", str(value), args)
        return plain_format(value, *args, **kwargs)

    environment.filters["format"] = bounded_format
    return environment


PERCENT_WIDTH_RE = re.compile(r"%[-#0 +]*(\d+|\*)?(?:\.(\d+|\*))?")
FORMAT_WIDTH_RE = re.compile(r"\{[^{}]*?:[^{}]*?(\d+)(?:\.(\d+))?[^{}]*\}")


def _refuse(reason: str) -> None:
    from jinja2.exceptions import SecurityError

    raise SecurityError(reason)


def _check_binop(operator: str, left: Any, right: Any) -> None:
    if operator == "*":
        for sized, times in ((left, right), (right, left)):
            sequence = isinstance(sized, str | list | tuple) and _is_int(times)
            if sequence and times * len(sized) > MAX_BUILT_ITEMS:
                _refuse(f"the result would exceed {MAX_BUILT_ITEMS} items")
        numbers = _is_int(left) and _is_int(right)
        if numbers and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            _refuse("the number would be too large")
    elif operator == "**" and _is_int(left) and _is_int(right):
        if abs(right) > MAX_EXPONENT or left.bit_length() * abs(right) > MAX_INT_BITS:
            _refuse("the number would be too large")
    elif operator == "%" and isinstance(left, str):
        _check_widths(left, PERCENT_WIDTH_RE)
        values = right if isinstance(right, tuple | list) else (right,)
        if "*" in left and any(_is_int(v) and abs(v) > MAX_WIDTH for v in values):
            _refuse(f"widths above {MAX_WIDTH} are not allowed")


def _check_widths(text: str, pattern: "re.Pattern[str]") -> None:
    for match in pattern.finditer(text):
        for number in match.groups():
            if number and number.isdigit() and int(number) > MAX_WIDTH:
                _refuse(f"widths above {MAX_WIDTH} are not allowed")


def _bounded_width(plain: Any) -> Any:
    """The filter with its own defaults, refusing a width (first argument) above MAX_WIDTH."""

    def bounded(value: Any, *args: Any, **kwargs: Any) -> Any:
        width: Any = args[0] if args else kwargs.get("width")
        if _is_int(width) and width > MAX_WIDTH:
            _refuse(f"widths above {MAX_WIDTH} are not allowed")
        return plain(value, *args, **kwargs)

    return bounded


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bytecode_cache() -> Any:
    """Compiled templates kept under DATA_DIR/cache/jinja2, so that a new process (a CLI run, a
    worker) does not compile the shipped message templates again. A cache that cannot be read
    or written (another user's files, a read-only disk) is skipped, never an error."""
    from django.conf import settings
    from jinja2 import FileSystemBytecodeCache

    class BestEffortCache(FileSystemBytecodeCache):
        def load_bytecode(self, bucket: Any) -> None:
            with contextlib.suppress(OSError):
                super().load_bytecode(bucket)

        def dump_bytecode(self, bucket: Any) -> None:
            with contextlib.suppress(OSError):
                super().dump_bytecode(bucket)

    directory = Path(settings.DATA_DIR) / "cache" / "jinja2"
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    return BestEffortCache(str(directory))


def has_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def check_syntax(source: str) -> str | None:
    """Return a one-line error for a template that does not compile, else None."""
    from jinja2 import TemplateSyntaxError

    try:
        environment().parse(source)
    except TemplateSyntaxError as exc:
        return f"template syntax error: {exc.message} (line {exc.lineno})"
    return None


def check_expression(source: str) -> str | None:
    from jinja2 import TemplateSyntaxError

    try:
        environment().compile_expression(source)
    except TemplateSyntaxError as exc:
        return f"expression syntax error: {exc.message}"
    return None


_COMPILE_LOCK = threading.Lock()  # the loader hands sources over through one shared dict


@lru_cache(maxsize=512)
def _compiled(source: str, html: bool):
    env = html_environment() if html else environment()
    kind = "html" if html else "text"
    name = f"{kind}:{CODE_VERSION}:{hashlib.sha256(source.encode()).hexdigest()}"
    loader: Any = env.loader
    with _COMPILE_LOCK:
        loader.pending[name] = source
        try:
            return env.get_template(name)
        finally:
            loader.pending.pop(name, None)


def render(source: str, context: dict[str, Any], *, html: bool = False) -> str:
    from jinja2 import TemplateSyntaxError, UndefinedError

    try:
        with template_limits.budget() as spent:
            parts = []
            for chunk in _compiled(source, html).generate(**context):
                spent.write(len(chunk))
                parts.append(chunk)
            return "".join(parts)
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
    from jinja2 import TemplateSyntaxError, UndefinedError

    try:
        with template_limits.budget():
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
