"""Celery tasks: they take ids and are safe to run twice."""

import socket

from celery import shared_task

from .services import execute_run


@shared_task(name="orchestration.execute_run", acks_late=True, reject_on_worker_lost=True)
def execute_run_task(run_id: int) -> str:
    result = execute_run(run_id, worker=f"celery@{socket.gethostname()}")
    return result["status"]
