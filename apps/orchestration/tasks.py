"""Celery tasks: they take ids, are safe to run twice, and are acknowledged late."""

import socket

from celery import shared_task

from .services import RunError, execute_run, resume_run, sweep_runs


def worker_name() -> str:
    return f"celery@{socket.gethostname()}"


@shared_task(name="orchestration.execute_run", acks_late=True, reject_on_worker_lost=True)
def execute_run_task(run_id: int) -> str:
    return execute_run(run_id, worker=worker_name())["status"]


@shared_task(name="orchestration.resume_run", acks_late=True, reject_on_worker_lost=True)
def resume_run_task(run_id: int) -> str:
    try:
        return resume_run(run_id, worker=worker_name())["status"]
    except RunError as exc:  # already resumed or finished elsewhere: nothing to do
        return f"skipped: {exc}"


@shared_task(name="orchestration.sweep_runs")
def sweep_runs_task() -> dict:
    return sweep_runs(requeue=True)
