"""What is still to be sent while the hub is away: the latest snapshot and the status changes.

A change is a snapshot in which some check's status differs from the snapshot before it (the
first snapshot is one too: the hub learns the starting state). Changes are kept, oldest first,
up to `limit`; beyond that the oldest is dropped and counted. A snapshot that changed nothing
only replaces the previous such snapshot: while the hub is down only the newest one matters.
Everything kept is a complete snapshot body, sent in the order observed.
"""

from collections import deque
from collections.abc import Mapping
from typing import Any

from .snapshot import statuses

PENDING_LIMIT = 100


class Outbox:
    def __init__(self, limit: int = PENDING_LIMIT) -> None:
        self.limit = limit
        self.changes: deque[dict[str, Any]] = deque()
        self.latest: dict[str, Any] | None = None  # newer than every kept change
        self.dropped = 0  # changes dropped since the last take_dropped()
        self._statuses: dict[str, str] | None = None

    def add(self, snapshot: dict[str, Any]) -> bool:
        """Keep `snapshot`; True when it is a status change."""
        now = statuses(snapshot)
        changed = now != self._statuses
        self._statuses = now
        if not changed:
            self.latest = snapshot
            return False
        self.changes.append(snapshot)
        self.latest = None
        while len(self.changes) > self.limit:
            self.changes.popleft()
            self.dropped += 1
        return True

    def next(self) -> dict[str, Any] | None:
        """The snapshot to send next: the oldest change, else the latest snapshot."""
        if self.changes:
            return self.changes[0]
        return self.latest

    def done(self, snapshot: Mapping[str, Any]) -> None:
        """`snapshot` (from next()) was delivered, or refused for good: forget it."""
        if self.changes and self.changes[0] is snapshot:
            self.changes.popleft()
        elif self.latest is snapshot:
            self.latest = None

    def take_dropped(self) -> int:
        dropped, self.dropped = self.dropped, 0
        return dropped

    def __len__(self) -> int:
        return len(self.changes) + (self.latest is not None)
