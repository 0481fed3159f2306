"""TCP connect to configured host:port targets; graded on the percent that are reachable."""

import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from apps.common import netpolicy
from apps.common.text import one_line, shown

from .base import Check, CheckResult, mapping, run_parallel, setting

MAX_TARGETS = 50  # one thread each


@dataclass(kw_only=True)
class NetworkCheck(Check):
    """Lower is worse: reachable percent below `warning` warns, below `critical` is critical.

    With no targets the check sends nothing and reports ok. Addresses follow the outbound
    policy of apps.common.http (apps.common.netpolicy): link-local and cloud metadata addresses
    are always refused; private and loopback addresses only for targets the operator configured
    (CHECK_NETWORK_TARGETS, or the agent's own configuration) or with OUTBOUND_ALLOW_PRIVATE=1,
    so a definition's `targets` cannot scan the internal network.

    Readings: `targets`, an object of "host:port" -> `reachable` (bool), `latency_ms`, `error`.
    The metrics add `reachable`, `total` and `reachable_percent` (graded). Only the host itself
    can take these readings; without them the check is unknown.
    """

    name = "network"
    unit = "% reachable"
    lower_is_worse = True

    warning: float | None = 100.0
    critical: float | None = 50.0
    targets: list[str] = field(default_factory=lambda: list(setting("CHECK_NETWORK_TARGETS", [])))
    timeout_s: float = 2.0

    def problems(self) -> list[str]:
        problems = super().problems()
        if len(self.targets) > MAX_TARGETS:
            problems.append(
                f"check 'network' takes at most {MAX_TARGETS} targets, got {len(self.targets)}"
            )
        for target in self.targets:
            try:
                parse_target(target)
            except ValueError as exc:
                problems.append(f"check 'network' {exc}")
        if not 0 < self.timeout_s <= 30:
            problems.append(
                f"check 'network' option 'timeout_s' must be between 0 and 30, "
                f"got {self.timeout_s:g}"
            )
        return problems

    def measure(self) -> dict[str, Any]:
        if not self.targets:
            return {"targets": {}}
        tasks = {
            target: partial(
                probe, *parse_target(target), self.timeout_s, self.private_allowed(target)
            )
            for target in self.targets
        }
        done = run_parallel(tasks, self.timeout_s + 1)
        timed_out = {"reachable": False, "latency_ms": None, "error": "timed out"}
        return {"targets": {target: done.get(target, timed_out) for target in self.targets}}

    def private_allowed(self, target: str) -> bool:
        """Private targets are for the operator's own: without Django (the agent), options
        from a command line, CHECK_NETWORK_TARGETS, or everything with OUTBOUND_ALLOW_PRIVATE."""
        if getattr(self, "operator_options", False) or setting("OUTBOUND_ALLOW_PRIVATE", True):
            return True
        return target in setting("CHECK_NETWORK_TARGETS", [])

    def assess(self, readings: Mapping[str, Any]) -> CheckResult:
        probes = dict(mapping(readings, "targets", " (only the host itself can probe targets)"))
        if not probes:
            return CheckResult("ok", "no targets", {"targets": {}, "reachable": 0, "total": 0})
        for target, found in probes.items():
            if not isinstance(found, Mapping):
                probes[target] = {"reachable": False, "latency_ms": None, "error": "no reading"}
        reachable = sum(1 for p in probes.values() if p.get("reachable") is True)
        percent = round(100 * reachable / len(probes), 1)
        status = self.grade(percent)
        failed = [
            f"{shown(t, 300)} ({one_line(p.get('error') or 'no reading', 500)})"
            for t, p in probes.items()
            if p.get("reachable") is not True
        ]
        message = f"{reachable}/{len(probes)} targets reachable"
        if failed:
            message += f"; unreachable: {', '.join(failed)}"
        metrics = {
            "targets": probes,
            "reachable": reachable,
            "total": len(probes),
            "reachable_percent": percent,
        }
        return CheckResult(status, message + self.limit_note(status), metrics)


def parse_target(text: str) -> tuple[str, int]:
    """'db:5432' or '[::1]:80' -> (host, port)."""
    host, _, port = text.strip().rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"target {text!r} must look like host:port")
    return host, int(port)


def probe(host: str, port: int, timeout_s: float, allow_private: bool = True) -> dict[str, Any]:
    """Resolve once, check every address against the outbound policy, connect to a checked one."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:  # UnicodeError: a name the IDNA codec refuses
        reason = getattr(exc, "strerror", None) or exc
        return {"reachable": False, "latency_ms": None, "error": f"cannot resolve {host}: {reason}"}
    error = "no address"
    for family, kind, proto, _, address in infos:
        ip = netpolicy.parse_address(str(address[0]))
        refused = "not an IP address" if ip is None else ""
        if ip is not None:
            refused = netpolicy.refusal(ip, allow_private=allow_private)
        if refused:
            error = f"{address[0]} refused: {refused}"
            continue
        with socket.socket(family, kind, proto) as sock:
            sock.settimeout(timeout_s)
            started = time.perf_counter()
            try:
                sock.connect(address)
            except OSError as exc:
                error = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
                continue
            latency = round((time.perf_counter() - started) * 1000, 2)
        return {"reachable": True, "latency_ms": latency, "error": ""}
    return {"reachable": False, "latency_ms": None, "error": error}
