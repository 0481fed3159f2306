"""Alertmanager's label matchers: `name=value`, `!=`, `=~`, `!~`, several ANDed.

The parser follows Alertmanager 0.25's classic syntax (what `amtool` and the `matchers:` of its
configuration accept): an optional `{...}`, matchers split on commas outside double quotes, a
label name `[a-zA-Z_:][a-zA-Z0-9_:]*`, a value optionally in double quotes with `\\"`, `\\\\`
and `\\n` escapes. Regular expressions are RE2 (the `google-re2` package), anchored at both
ends like Alertmanager's, so matching is linear in the input: there is no backtracking to run
away, and what RE2 refuses (backreferences, lookaround) is a one-line error, as it is in
Alertmanager. A label an alert does not have matches as the empty string.

Django-free: the agent, the commands and the domain apps may all use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from apps.common.text import shown

OPERATORS = ("=", "!=", "=~", "!~")
MAX_PATTERN_CHARS = 1000
# Go's \s is [\t\n\f\r ]; Python's is wider, so the class is spelled out.
_SPACE = "[\t\n\f\r ]"
_MATCHER = re.compile(
    rf"^{_SPACE}*([a-zA-Z_:][a-zA-Z0-9_:]*){_SPACE}*(=~|=|!=|!~){_SPACE}*(.*?){_SPACE}*$",
    re.DOTALL,
)


class MatcherError(ValueError):
    """A matcher that cannot be parsed or compiled; the message is one line."""


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> Any:
    import re2

    if len(pattern) > MAX_PATTERN_CHARS:
        raise MatcherError(f"regular expression longer than {MAX_PATTERN_CHARS} characters")
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(f"^(?:{pattern})$", options=options)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise MatcherError(
            f"invalid regular expression {shown(pattern)!r}: {detail} "
            "(RE2 syntax: no backreferences or lookaround)"
        ) from None


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise MatcherError(f"unknown matcher operator {self.op!r}")
        if self.op in ("=~", "!~"):
            _compiled(self.value)

    def matches(self, labels: Mapping[str, Any]) -> bool:
        actual = labels.get(self.name)
        text = "" if actual is None else str(actual)
        if self.op == "=":
            return text == self.value
        if self.op == "!=":
            return text != self.value
        found = _compiled(self.value).search(text) is not None
        return found if self.op == "=~" else not found

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'{self.name}{self.op}"{escaped}"'

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "op": self.op, "value": self.value}


def _split(text: str) -> list[str]:
    """Comma-separated tokens, commas inside double quotes kept (as Alertmanager splits)."""
    tokens: list[str] = []
    token: list[str] = []
    inside_quotes = escaped = False
    for char in text:
        if char == "," and not inside_quotes:
            tokens.append("".join(token))
            token = []
            continue
        if char == '"':
            if not escaped:
                inside_quotes = not inside_quotes
            else:
                escaped = False
        elif char == "\\":
            escaped = not escaped
        elif char != ",":
            escaped = False
        token.append(char)
    last = "".join(token).strip()
    if last:
        tokens.append(last)
    return tokens


def _unquote(raw: str) -> str:
    quoted = raw.startswith('"')
    body = raw[1:] if quoted else raw
    out: list[str] = []
    escaped = False
    for index, char in enumerate(body):
        if escaped:
            escaped = False
            out.append({"n": "\n", '"': '"', "\\": "\\"}.get(char, "\\" + char))
            continue
        if char == "\\":
            if index < len(body) - 1:
                escaped = True
                continue
            out.append("\\")
        elif char == '"':
            if not quoted or index < len(body) - 1:
                raise MatcherError(f"matcher value contains an unescaped double quote: {raw}")
            quoted = False
        else:
            out.append(char)
    if quoted:
        raise MatcherError(f"matcher value contains an unescaped double quote: {raw}")
    return "".join(out)


def parse_matcher(text: str) -> Matcher:
    found = _MATCHER.match(text)
    if found is None:
        raise MatcherError(f"bad matcher format: {shown(text)!r}")
    name, op, raw = found.groups()
    return Matcher(name, op, _unquote(raw))


def parse_matchers(text: str) -> list[Matcher]:
    """One string of matchers, e.g. `alertname=DiskFull,host=~"web-0[1-7]"` (may be empty)."""
    body = text.removeprefix("{").removesuffix("}")
    return [parse_matcher(token) for token in _split(body)]


def parse_all(items: Iterable[str] | str) -> list[Matcher]:
    """Matchers from one string or several, ANDed; an empty result is an error."""
    if isinstance(items, str):
        items = [items]
    matchers = [matcher for item in items for matcher in parse_matchers(str(item))]
    if not matchers:
        raise MatcherError("no matchers given: at least one is required")
    return matchers


def from_dicts(items: Iterable[Mapping[str, Any]]) -> list[Matcher]:
    """Matchers stored as {"name", "op", "value"} (what `as_dict` writes)."""
    return [Matcher(str(i["name"]), str(i["op"]), str(i["value"])) for i in items]


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, Any]) -> bool:
    return all(matcher.matches(labels) for matcher in matchers)


def render(matchers: Iterable[Matcher]) -> str:
    return ",".join(str(matcher) for matcher in matchers)
