"""The agent's settings: command-line flags, then the environment, then defaults.

The API key comes only from the environment (AGENT_API_KEY), never from a flag: command lines
are visible to every user of the host. Every problem is a ConfigError with a one-line message.
"""

import argparse
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import urlsplit

from apps.checkers.checks import CHECKS, Check, UnknownName, check_class
from apps.checkers.checks.options import parse_options
from apps.common.text import shown

DEFAULT_INTERVAL_S = 60
MAX_INTERVAL_S = 86400
HOST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}")


class ConfigError(Exception):
    """Bad flags or environment; the message is one line."""


@dataclass(frozen=True)
class Config:
    hub_url: str  # the hub's base URL, no trailing slash
    api_key: str
    host_name: str
    interval_s: int
    once: bool
    checks: dict[str, Check]

    @property
    def snapshots_url(self) -> str:
        return f"{self.hub_url}/api/hosts/{self.host_name}/snapshots"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line instead of usage + error
        raise ConfigError(message)


def parser(version: str) -> argparse.ArgumentParser:
    p = _Parser(
        prog="incident-agent",
        description=(
            "Run the host checks every interval and post a snapshot to the hub at "
            "$AGENT_HUB_URL/api/hosts/<name>/snapshots with the key in $AGENT_API_KEY."
        ),
    )
    p.add_argument(
        "--interval",
        metavar="SECONDS",
        help=f"Seconds between snapshots (default $AGENT_INTERVAL_S or {DEFAULT_INTERVAL_S}).",
    )
    p.add_argument(
        "--host-name",
        metavar="NAME",
        help="This host's name at the hub (default $AGENT_HOST_NAME or the hostname).",
    )
    p.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="CHECK.KEY=VALUE",
        help="Set a check option, e.g. disk.paths=/,/var or cpu.warning=none. Repeatable.",
    )
    p.add_argument(
        "--once",
        action="store_true",
        help="Send one snapshot and exit with the worst check's code: 0 ok, 1 warning, "
        "2 critical, 3 unknown (2 as well when the snapshot could not be delivered).",
    )
    p.add_argument("--version", action="version", version=f"incident-agent {version}")
    return p


def load_config(argv: list[str] | None, environ: Mapping[str, str], version: str) -> Config:
    args = parser(version).parse_args(argv)
    return Config(
        hub_url=_hub_url(environ.get("AGENT_HUB_URL", "").strip()),
        api_key=_api_key(environ.get("AGENT_API_KEY", "").strip()),
        host_name=_host_name(args.host_name or environ.get("AGENT_HOST_NAME") or ""),
        interval_s=_interval(args.interval, environ.get("AGENT_INTERVAL_S")),
        once=args.once,
        checks=configured_checks(args.option),
    )


def configured_checks(raw_options: list[str]) -> dict[str, Check]:
    """Every check, configured from the class defaults and --option values."""
    try:
        options = parse_options(raw_options)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    try:
        classes = {name: check_class(name) for name in [*CHECKS, *options]}
    except UnknownName as exc:
        raise ConfigError(f"--option: {exc}") from None
    checks: dict[str, Check] = {}
    for name in CHECKS:
        check, problems = classes[name].configure(options.get(name, {}))
        if check is None:
            raise ConfigError("; ".join(problems))
        checks[name] = check
    return checks


def _hub_url(raw: str) -> str:
    example = "like https://hub.example.com"
    if not raw:
        raise ConfigError(f"AGENT_HUB_URL is not set: the hub's base URL, {example}")
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
    ):
        raise ConfigError(f"AGENT_HUB_URL must be an http(s) URL {example}, got {shown(raw)!r}")
    if parts.username or parts.password:
        raise ConfigError("AGENT_HUB_URL must not hold credentials; the key goes in AGENT_API_KEY")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _api_key(raw: str) -> str:
    if not raw:
        raise ConfigError(
            "AGENT_API_KEY is not set: the hub's API key, read only from the environment"
        )
    if not (raw.isascii() and raw.isprintable()) or " " in raw:
        raise ConfigError("AGENT_API_KEY must be printable ASCII without spaces")
    return raw


def _host_name(raw: str) -> str:
    name = raw.strip() or socket.gethostname()
    if not HOST_NAME.fullmatch(name):
        raise ConfigError(
            f"host name {shown(name)!r} must be letters, digits, '.', '_' or '-' "
            "(set --host-name or AGENT_HOST_NAME)"
        )
    return name


def _interval(flag: str | None, env: str | None) -> int:
    source, raw = ("--interval", flag) if flag is not None else ("AGENT_INTERVAL_S", env)
    if raw is None or not raw.strip():
        return DEFAULT_INTERVAL_S
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value.is_integer() or not 1 <= value <= MAX_INTERVAL_S:
        raise ConfigError(
            f"{source} must be a whole number of seconds from 1 to {MAX_INTERVAL_S}, "
            f"got {shown(raw)!r}"
        )
    return int(value)
