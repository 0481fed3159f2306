"""Celery tasks of the notifications queue: they take ids and are safe to run twice."""

from celery import shared_task

from apps.notify.models import Delivery
from apps.notify.services import RetryRefused, retry_delivery


@shared_task(name="notify.retry_delivery", acks_late=True, reject_on_worker_lost=True)
def retry_delivery_task(delivery_id: int) -> str:
    """Re-send a failed delivery; one that succeeded meanwhile is left alone."""
    delivery = Delivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        return "missing"
    try:
        return retry_delivery(delivery).status
    except RetryRefused as exc:
        return f"refused: {exc}"
