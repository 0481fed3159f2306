"""Load from wrk (Debian's `wrk` package): a load generator written in C.

On a 2-core machine a Python load generator costs about half a millisecond of CPU per request,
a quarter of what the server may spend; wrk costs a few microseconds, so the figures measure
the server rather than the client. Each request is a new connection (`Connection: close`), as
agents and senders behind a proxy make them. Requests come from a Lua script that picks a path
and body per request.
"""

import re
import shutil
import subprocess
from pathlib import Path


def available() -> bool:
    return shutil.which("wrk") is not None


def lua_long_string(text: str) -> str:
    """`text` as a Lua long string whose brackets cannot occur in it."""
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def write_script(
    path: Path,
    key: str,
    bodies: list[str],
    flipped: list[str],
    paths: int,
    path_format: str,
    flip_every: int,
) -> None:
    """A wrk script: request i goes to path_format % host (a pseudo-random host of `paths`),
    with that host's body; one request in `flip_every` sends the flipped body."""  # fmt: skip
    lines = [
        f"wrk.headers['Authorization'] = 'Bearer {key}'",
        "wrk.headers['Content-Type'] = 'application/json'",
        "wrk.headers['Connection'] = 'close'",
        "local bodies = {" + ",".join(lua_long_string(b) for b in bodies) + "}",
        "local flipped = {" + ",".join(lua_long_string(b) for b in flipped) + "}",
        "math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))",
        "request = function()",
        f"  local host = math.random(0, {paths - 1})",
        f"  local body = bodies[(host % {len(bodies)}) + 1]",
        f"  if math.random(1, {flip_every}) == 1 then",
        f"    body = flipped[(host % {len(flipped)}) + 1]",
        "  end",
        f"  return wrk.format('POST', string.format('{path_format}', host), nil, body)",
        "end",
    ]
    path.write_text("\n".join(lines) + "\n")


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def millis(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * UNITS[unit]


def run(script: Path, port: int, seconds: float, connections: int) -> dict:
    """Run wrk; returns requests, seconds, non-2xx count, socket errors, p50 and p99 (ms)."""
    out = subprocess.run(
        ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds:g}s", "--latency",
         "-s", str(script), f"http://127.0.0.1:{port}/"],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    ).stdout  # fmt: skip
    if not all(re.search(rf"^\s+{p}%\s+[\d.]+(us|ms|s|m)\b", out, re.M) for p in (50, 99)):
        raise SystemExit(f"wrk gave no latency figures:\n{out}")
    counted = re.search(r"(\d+) requests in ([\d.]+\w+),", out)
    requests, elapsed_ms = int(counted.group(1)), millis(counted.group(2))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "requests": requests,
        "seconds": elapsed_ms / 1000,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(1).strip() if errors else "none",
        "p50_ms": millis(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),  # type: ignore[union-attr]
        "p99_ms": millis(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),  # type: ignore[union-attr]
    }
