"""Celery tasks (run in-process when CELERY_BROKER_URL is unset: CELERY_TASK_ALWAYS_EAGER)."""

from celery import shared_task

from orderdesk.errors import DomainError

from . import sync


@shared_task(name="orderdesk.stores.tasks.process_delivery", ignore_result=True)
def process_delivery_task(delivery_id: int) -> str:
    return sync.process_delivery(delivery_id)


@shared_task(name="orderdesk.stores.tasks.poll_stores", ignore_result=True)
def poll_stores() -> int:
    return sync.poll_all_stores()


@shared_task(name="orderdesk.stores.tasks.sync_store", ignore_result=True)
def sync_store_task(store_id: int, kind: str) -> None:
    try:
        sync.sync_store(store_id, kind=kind)
    except DomainError:
        # Paused or removed since it was asked for: nothing to do.
        return
