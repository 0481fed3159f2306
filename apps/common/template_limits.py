"""What one template render may spend: time (the node's deadline), steps (loop iterations and
calls) and characters (built by `~`, `+`, `*`, filters and methods, put into lists and dicts,
and written out). A template that would pass one of them stops with a one-line SecurityError,
so a hostile definition fails its node in bounded time and memory instead of pinning a worker.

The counting is compiled in: every `{% for %}` iterates through `counted`, every `~` becomes a
call of `join_text` (or `join_markup` with autoescape), and the sandbox's `call` and binary
operators charge the budget (apps.common.templating). Cheap enough for ordinary templates: one
integer decrement per step and a clock read every 100 steps.
"""

import contextlib
import contextvars
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

MAX_STEPS = 1_000_000  # loop iterations and calls per render
MAX_BUILT_CHARS = 20_000_000  # characters built or stored per render (~20-80 MB)
MAX_OUTPUT_CHARS = 5_000_000
MAX_RENDER_S = 10.0  # without a node deadline (previews, commands)
CLOCK_EVERY = 100


def refuse(reason: str) -> None:
    from jinja2.exceptions import SecurityError

    raise SecurityError(reason)


@dataclass
class Budget:
    deadline: float
    steps: int = MAX_STEPS
    chars: int = MAX_BUILT_CHARS
    output: int = MAX_OUTPUT_CHARS
    until_clock: int = CLOCK_EVERY

    def tick(self, steps: int = 1) -> None:
        self.steps -= steps
        if self.steps < 0:
            refuse(f"the template took more than {MAX_STEPS} steps (loop iterations and calls)")
        self.until_clock -= steps
        if self.until_clock <= 0:
            self.until_clock = CLOCK_EVERY
            self.check_clock()

    def check_clock(self) -> None:
        if time.monotonic() > self.deadline:
            refuse("the template ran past the node's deadline")

    def charge(self, chars: int) -> None:
        self.chars -= chars
        if self.chars < 0:
            refuse(f"the template built more than {MAX_BUILT_CHARS} characters")
        if chars > 100_000:
            self.check_clock()

    def write(self, chars: int) -> None:
        self.output -= chars
        if self.output < 0:
            refuse(f"the template's output is over {MAX_OUTPUT_CHARS} characters")
        self.tick()


_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("template_deadline")
_BUDGET: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("template_budget")


@contextlib.contextmanager
def deadline(at: float | None) -> Iterator[None]:
    """Renders inside count against `at` (time.monotonic()): a node attempt's deadline."""
    token = _DEADLINE.set(at)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


@contextlib.contextmanager
def budget() -> Iterator[Budget]:
    """A fresh budget for one render (nested renders share the outer one)."""
    current = _BUDGET.get(None)
    if current is not None:
        yield current
        return
    limit = time.monotonic() + MAX_RENDER_S
    node_deadline = _DEADLINE.get(None)
    spent = Budget(deadline=min(limit, node_deadline) if node_deadline else limit)
    spent.check_clock()
    token = _BUDGET.set(spent)
    try:
        yield spent
    finally:
        _BUDGET.reset(token)


def active() -> Budget | None:
    return _BUDGET.get(None)


def size(value: Any) -> int:
    """Characters a value holds, one level deep (what joining or printing it would make)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list | tuple | set | frozenset):
        return len(value) + sum(len(item) for item in value if isinstance(item, str))
    if isinstance(value, dict):
        return len(value) + sum(
            len(item) for pair in value.items() for item in pair if isinstance(item, str)
        )
    return 1


# --- compiled into templates -----------------------------------------------------------------


def counted(iterable: Any) -> Any:
    spent = active()
    if spent is None or iterable is None:
        return iterable
    return _counting(iterable, spent)


def _counting(iterable: Iterable[Any], spent: Budget) -> Iterator[Any]:
    for item in iterable:
        spent.tick()
        yield item


def _charge_join(parts: tuple[Any, ...]) -> None:
    spent = active()
    if spent is not None:
        spent.charge(sum(len(p) if isinstance(p, str) else size(p) for p in parts))


def join_text(*parts: Any) -> str:
    """`a ~ b` without autoescape."""
    _charge_join(parts)
    return "".join(str(part) for part in parts)


def join_markup(*parts: Any) -> Any:
    """`a ~ b` with autoescape (HTML templates)."""
    from jinja2.runtime import markup_join

    _charge_join(parts)
    return markup_join(parts)


def instrument(tree: Any, autoescape: bool) -> Any:
    """The template's tree with loops counted and `~` charged (before code generation)."""
    from jinja2 import nodes
    from jinja2.visitor import NodeTransformer

    join = f"{__name__}.{'join_markup' if autoescape else 'join_text'}"

    class Counting(NodeTransformer):
        def visit_For(self, node: Any) -> Any:
            self.generic_visit(node)
            loop = nodes.ImportedName(f"{__name__}.counted", lineno=node.lineno)
            node.iter = nodes.Call(loop, [node.iter], [], None, None, lineno=node.lineno)
            return node

        def visit_Concat(self, node: Any) -> Any:
            self.generic_visit(node)
            name = nodes.ImportedName(join, lineno=node.lineno)
            return nodes.Call(name, list(node.nodes), [], None, None, lineno=node.lineno)

    return Counting().visit(tree)


# --- charged by the sandbox --------------------------------------------------------------------

GROWING_METHODS = frozenset({"append", "insert", "extend", "update", "setdefault", "add"})


def check_call(obj: Any, args: tuple[Any, ...], max_width: int) -> None:
    """Before the sandbox calls obj(*args): a step, and what the call would build."""
    spent = active()
    if spent is None:
        return
    spent.tick()
    name = getattr(obj, "__name__", "")
    owner = getattr(obj, "__self__", None)
    if isinstance(owner, list | dict | set) and name in GROWING_METHODS:
        spent.charge(sum(size(arg) for arg in args))
    elif isinstance(owner, str):
        check_str_method(owner, name, args, max_width, spent)


def check_str_method(text: str, name: str, args: tuple[Any, ...], max_width: int, spent: Budget):
    if name == "join" and args and isinstance(args[0], list | tuple):
        spent.charge(size(args[0]) + len(text) * len(args[0]))
    elif name == "replace" and len(args) >= 2 and all(isinstance(a, str) for a in args[:2]):
        old, new = args[0], args[1]
        if len(new) > len(old):
            spent.charge(len(text) + text.count(old) * (len(new) - len(old)))
    elif name in ("ljust", "rjust", "center", "zfill") and args and isinstance(args[0], int):
        if args[0] > max_width:
            refuse(f"widths above {max_width} are not allowed")
    elif name == "expandtabs" and args and isinstance(args[0], int):
        spent.charge(len(text) + text.count("\t") * max(0, args[0]))


def charge_binop(operator: str, left: Any, right: Any) -> None:
    """`+` and `*` on strings and lists build a new one of the combined size."""
    spent = active()
    if spent is None:
        return
    if operator == "+" and isinstance(left, str | list | tuple):
        spent.charge(size(left) + size(right))
    elif operator == "*":
        for sized, times in ((left, right), (right, left)):
            if isinstance(sized, str | list | tuple) and isinstance(times, int) and times > 0:
                spent.charge(size(sized) * times)


def bounded_filters(filters: dict[str, Any]) -> None:
    """Filters whose output can outgrow their input are charged before they run."""
    plain_join, plain_replace = filters["join"], filters["replace"]
    plain_indent, plain_sum = filters["indent"], filters["sum"]

    def join(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> Any:
        spent = active()
        if spent is not None:
            items = list(value) if not isinstance(value, list | tuple) else value
            spent.charge(size(items) + len(str(d)) * len(items))
            value = items
        return plain_join(eval_ctx, value, d, attribute)

    def replace(eval_ctx: Any, s: Any, old: Any, new: Any, count: Any = None) -> Any:
        spent = active()
        if spent is not None and isinstance(old, str) and isinstance(new, str):
            text = str(s)
            if len(new) > len(old):
                spent.charge(len(text) + text.count(old) * (len(new) - len(old)))
        return plain_replace(eval_ctx, s, old, new, count)

    def indent(s: Any, width: Any = 4, *args: Any, **kwargs: Any) -> Any:
        spent = active()
        if spent is not None and isinstance(width, int):
            text = str(s)
            spent.charge(len(text) + (text.count("\n") + 1) * width)
        return plain_indent(s, width, *args, **kwargs)

    def sum_(environment: Any, iterable: Any, *args: Any, **kwargs: Any) -> Any:
        spent = active()
        items = list(iterable)
        if spent is not None and any(not isinstance(i, int | float) for i in items):
            spent.charge(sum(size(i) for i in items) * max(1, len(items)))
        return plain_sum(environment, items, *args, **kwargs)

    for name, plain, bounded in (
        ("join", plain_join, join),
        ("replace", plain_replace, replace),
        ("indent", plain_indent, indent),
        ("sum", plain_sum, sum_),
    ):
        for marker in ("jinja_pass_arg",):  # pass_eval_context / pass_environment markers
            if hasattr(plain, marker):
                setattr(bounded, marker, getattr(plain, marker))
        filters[name] = bounded
