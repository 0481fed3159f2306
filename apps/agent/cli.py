"""`incident-agent` / `python -m apps.agent`: flags, signals, exit codes.

Exit codes: with --once the worst check's (0 ok, 1 warning, 2 critical, 3 unknown); 2 with a
one-line error for bad flags or environment, a key the hub refuses (401/403), or a --once
snapshot that could not be delivered; 0 after SIGTERM or SIGINT.
"""

import os
import signal
import sys
import threading
from types import FrameType

from apps.common.text import one_line

from .config import ConfigError, load_config
from .hub import Hub
from .runner import EXIT_ERROR, Runner
from .snapshot import agent_version


class Stopped(BaseException):
    """SIGTERM or SIGINT: leave the loop wherever it is (a BaseException, like
    KeyboardInterrupt, so that no `except Exception` on the way swallows it)."""


def log(message: str) -> None:
    print(f"incident-agent: {one_line(message, 1000)}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    version = agent_version()
    try:
        config = load_config(argv, os.environ, version)
    except ConfigError as exc:
        log(f"error: {exc}")
        return EXIT_ERROR
    hub = Hub(config.snapshots_url, config.api_key, f"incident-agent/{version}")
    runner = Runner(config, hub, version, log)
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, _stop)
    try:
        if config.once:
            return runner.run_once()
        log(
            f"{version}: {len(config.checks)} checks every {config.interval_s}s, "
            f"posting to {config.snapshots_url}"
        )
        return runner.run_forever()
    except Stopped as exc:
        kept = len(runner.outbox)
        log(f"stopped by {exc}" + (f"; {kept} snapshot(s) not sent" if kept else ""))
        return 0
    finally:
        hub.close()


def _stop(signum: int, frame: FrameType | None) -> None:
    for each in (signal.SIGTERM, signal.SIGINT):  # a second signal must not interrupt the exit
        signal.signal(each, signal.SIG_IGN)
    raise Stopped(signal.Signals(signum).name)
