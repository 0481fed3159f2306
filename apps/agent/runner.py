"""The agent's loop: a snapshot every interval, sent one request at a time, kept while the hub
is away and sent when it answers again (exponential backoff with jitter between attempts)."""

import time
from collections.abc import Callable

from apps.checkers.checks import EXIT_CODES
from apps.common.retry import Backoff

from .config import Config
from .hub import REFUSED, REJECTED, RETRY, SENT, Answer, Hub
from .outbox import Outbox
from .snapshot import summary, take_snapshot, worst

ONCE_ATTEMPTS = 3
EXIT_ERROR = 2  # bad configuration, a refused key, or --once could not deliver


def retry_cap_s(interval_s: int) -> float:
    """Waits between attempts grow to five intervals, at least 5 s and at most 5 min."""
    return float(min(300, max(5, 5 * interval_s)))


class Runner:
    def __init__(
        self,
        config: Config,
        hub: Hub,
        version: str,
        log: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.hub = hub
        self.version = version
        self.log = log
        self.clock = clock
        self.sleep = sleep
        self.outbox = Outbox()
        self.backoff = Backoff(base_s=1.0, cap_s=retry_cap_s(config.interval_s), jitter=True)
        self.failures = 0  # failed attempts in a row
        self.retry_at = 0.0

    def snapshot(self) -> dict:
        return take_snapshot(self.config.checks, self.config.interval_s, self.version)

    def run_once(self) -> int:
        """One snapshot, up to ONCE_ATTEMPTS tries; the worst check's exit code when sent."""
        snapshot = self.snapshot()
        answer = Answer(RETRY, "not sent")
        for attempt in range(1, ONCE_ATTEMPTS + 1):
            answer = self.hub.post(snapshot)
            if answer.kind == SENT:
                status = worst(snapshot)
                print(f"{status.upper()}: {self.config.host_name} {summary(snapshot)}; sent")
                return EXIT_CODES[status]
            if answer.kind != RETRY:
                break
            if attempt < ONCE_ATTEMPTS:
                self.sleep(self.backoff.delay(attempt, answer.retry_after_s))
        if answer.kind == RETRY:
            self.log(f"error: snapshot not sent after {ONCE_ATTEMPTS} attempts: {answer.detail}")
        else:
            self.log(f"error: {answer.detail}")
        return EXIT_ERROR

    def run_forever(self) -> int:
        """Returns only when the hub refuses the key (exit code 2)."""
        interval = self.config.interval_s
        next_at = self.clock()
        while True:
            if self.clock() >= next_at:
                self.outbox.add(self.snapshot())
                while next_at <= self.clock():  # a slow round skips slots, never bunches them
                    next_at += interval
            if self.outbox and self.clock() >= self.retry_at:
                code = self.flush()
                if code is not None:
                    return code
            wake = min(next_at, self.retry_at) if self.outbox else next_at
            self.sleep(max(0.0, wake - self.clock()))

    def flush(self) -> int | None:
        """Send what is kept, oldest first, until done or an attempt fails."""
        while (snapshot := self.outbox.next()) is not None:
            answer = self.hub.post(snapshot)
            if answer.kind == REFUSED:
                self.log(f"error: {answer.detail}")
                return EXIT_ERROR
            if answer.kind == RETRY:
                self.failures += 1
                delay = self.backoff.delay(self.failures, answer.retry_after_s)
                self.retry_at = self.clock() + delay
                self.log(
                    f"hub unavailable ({answer.detail}); {len(self.outbox)} snapshot(s) kept, "
                    f"attempt {self.failures}, next in {delay:.1f}s"
                )
                return None
            self.outbox.done(snapshot)
            if answer.kind == REJECTED:
                self.log(
                    f"hub rejected the snapshot of {snapshot['observed_at']} ({answer.detail})"
                )
            if self.failures:
                self._recovered()
        return None

    def _recovered(self) -> None:
        dropped = self.outbox.take_dropped()
        note = f", {dropped} older status change(s) dropped" if dropped else ""
        self.log(
            f"hub answers again after {self.failures} failed attempt(s); "
            f"{len(self.outbox)} more kept snapshot(s) to send{note}"
        )
        self.failures = 0
        self.retry_at = 0.0
