"""The one retry rule, shared by node attempts, notify deliveries and LLM calls.

- A node's `retries` re-run the whole node; each node attempt has its own deadline
  (`timeout_s`), and everything inside it (a driver's attempts, an LLM provider's retries, the
  waits between them) is bounded by that deadline.
- An inner layer never starts an attempt, nor sleeps before one, that would pass the deadline it
  was given: it stops and says so, so the outer layer decides what happens next.
- Waits double from a base, are capped, may be jittered, and honour a server's Retry-After (up to
  the cap).
"""

import random
import time
from dataclasses import dataclass


@dataclass
class Backoff:
    """Exponential waits: base * 2**(attempt-1), at most `cap_s`; `jitter` keeps half of it and
    randomises the rest (so many senders do not retry in step)."""

    base_s: float
    cap_s: float = 60.0
    jitter: bool = False

    def delay(self, attempt: int, retry_after_s: float | None = None) -> float:
        """The wait after failed attempt number `attempt` (1-based)."""
        delay = min(self.cap_s, self.base_s * 2 ** max(0, attempt - 1))
        if self.jitter:
            delay = delay / 2 + random.uniform(0, delay / 2)
        if retry_after_s is not None:
            delay = max(delay, min(max(0.0, retry_after_s), self.cap_s))
        return delay


def remaining_s(deadline: float | None) -> float | None:
    """Seconds left before a time.monotonic() deadline (None: no deadline)."""
    return None if deadline is None else deadline - time.monotonic()


def attempt_timeout(
    default_s: float, deadline: float | None, floor_s: float = 0.05
) -> float | None:
    """The timeout of the next attempt: `default_s`, cut to what is left of the deadline; None
    when too little is left to start one."""
    left = remaining_s(deadline)
    if left is None:
        return default_s
    if left <= floor_s:
        return None
    return min(default_s, left)


def sleep_before_retry(delay_s: float, deadline: float | None) -> bool:
    """Sleep `delay_s` unless that would reach the deadline; False (without sleeping) then."""
    left = remaining_s(deadline)
    if left is not None and delay_s >= left:
        return False
    if delay_s > 0:
        time.sleep(delay_s)
    return True
