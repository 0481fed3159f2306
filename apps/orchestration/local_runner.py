"""The runner of a machine without a broker: executes PENDING runs, most urgent first.

With PIPELINE_RUNNER=worker the web server only stores runs (PENDING, with a priority); this
runner, started as its own process (`manage.py run_worker`), takes them from the database. The
database is the queue: a run is taken with the same conditional UPDATE that Celery workers use
(services.claim_run), so any number of runners, threads and Celery workers may compete for the
same runs and each run executes once. A runner that dies leaves RUNNING runs whose heartbeat goes
stale; any runner takes them over after PIPELINE_STALE_AFTER_S (up to PIPELINE_MAX_RECOVERIES).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection

from .models import PipelineRun, RunStatus
from .services import claim_run, execute_claimed_run, stale_cutoff

logger = logging.getLogger(__name__)

# How many of the most urgent PENDING runs one look reads: enough that runners racing for the
# head of the queue each find one they can take without reading again.
CANDIDATES = 8


def runner_name(thread: int) -> str:
    return f"run_worker@{socket.gethostname()}:{os.getpid()}/{thread}"


def next_candidates(limit: int = CANDIDATES) -> list[int]:
    """Ids of the PENDING runs to take next: lowest priority number, then oldest."""
    return list(
        PipelineRun.objects.filter(status=RunStatus.PENDING)
        .order_by("priority", "id")
        .values_list("pk", flat=True)[:limit]
    )


def abandoned_runs(limit: int = CANDIDATES) -> list[int]:
    """RUNNING runs whose worker stopped beating (died), which claim_run may take over."""
    return list(
        PipelineRun.objects.filter(
            status=RunStatus.RUNNING,
            heartbeat_at__lt=stale_cutoff(),
            recoveries__lt=settings.PIPELINE_MAX_RECOVERIES,
        )
        .order_by("priority", "id")
        .values_list("pk", flat=True)[:limit]
    )


def take_next(worker: str, *, include_abandoned: bool = False) -> int | None:
    """Claim the most urgent run nobody holds; None when there is none."""
    lists = [next_candidates]
    if include_abandoned:
        lists.append(abandoned_runs)
    for candidates in lists:
        for run_id in candidates():
            if claim_run(run_id, worker):
                return run_id
    return None


@dataclass
class RunnerStats:
    completed: int = 0
    failed: int = 0
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, status: str) -> None:
        with self.lock:
            if status == RunStatus.COMPLETED:
                self.completed += 1
            else:
                self.failed += 1


class LocalRunner:
    """`threads` loops, each executing one run at a time. Runs mostly wait on HTTP (LLM, Slack,
    PagerDuty), so a few threads per process overlap those waits; for more CPU, start more
    processes. stop() lets every thread finish the run it holds."""

    def __init__(
        self,
        threads: int = 4,
        *,
        poll_s: float | None = None,
        once: bool = False,
        on_run: Callable[[int, str, str], None] | None = None,
    ) -> None:
        self.threads = threads
        self.poll_s = settings.PIPELINE_WORKER_POLL_S if poll_s is None else poll_s
        self.once = once  # stop when nothing is left to take (tests, a cron job)
        self.on_run = on_run
        self.stopping = threading.Event()
        self.stats = RunnerStats()
        self._abandoned_checked = 0.0

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> RunnerStats:
        """Run until stop() (or, with once, until the queue is empty); returns the counts."""
        workers = [
            threading.Thread(target=self._loop, args=(number,), name=f"run-worker-{number}")
            for number in range(1, self.threads + 1)
        ]
        for thread in workers:
            thread.start()
        for thread in workers:
            while thread.is_alive():
                thread.join(timeout=0.5)  # short joins: the main thread still gets signals
        return self.stats

    def _loop(self, number: int) -> None:
        worker = runner_name(number)
        try:
            while not self.stopping.is_set():
                if self._step(worker):
                    continue
                if self.once:
                    return
                self.stopping.wait(self.poll_s)
        finally:
            connection.close()

    def _step(self, worker: str) -> bool:
        """Take and execute one run; False when there was none (or the database failed)."""
        close_old_connections()
        try:
            run_id = take_next(worker, include_abandoned=self._abandoned_due())
        except DatabaseError as exc:
            logger.warning("run_worker could not read the queue: %s", exc)
            connection.close()
            self.stats.errors += 1
            return False
        if run_id is None:
            return False
        try:
            status = execute_claimed_run(run_id)["status"]
        except Exception:  # the run keeps its heartbeat-less RUNNING state for a takeover
            logger.exception("run %s raised in run_worker", run_id)
            connection.close()
            status = RunStatus.FAILED
            self.stats.errors += 1
        self.stats.count(status)
        if self.on_run is not None:
            self.on_run(run_id, status, worker)
        return True

    def _abandoned_due(self) -> bool:
        """Look for runs of dead workers about once per heartbeat period, not on every take."""
        now = time.monotonic()
        if now - self._abandoned_checked < settings.PIPELINE_HEARTBEAT_S:
            return False
        self._abandoned_checked = now
        return True


def pending_count() -> int:
    return PipelineRun.objects.filter(status=RunStatus.PENDING).count()
