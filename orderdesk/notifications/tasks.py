"""Celery tasks (run in-process when CELERY_BROKER_URL is unset: CELERY_TASK_ALWAYS_EAGER)."""

from celery import shared_task

from . import delivery


@shared_task(name="orderdesk.notifications.tasks.deliver_notification", ignore_result=True)
def deliver_notification_task(notification_id: int) -> str | None:
    return delivery.deliver_notification(notification_id)


@shared_task(name="orderdesk.notifications.tasks.deliver_notifications", ignore_result=True)
def deliver_notifications_task(notification_ids: list[int]) -> None:
    """Many rows in one task (a batch of orders' messages: one publish, not one per row)."""
    delivery.deliver_notifications(notification_ids)


@shared_task(name="orderdesk.notifications.tasks.sweep_notifications", ignore_result=True)
def sweep_notifications() -> dict[str, int]:
    return delivery.deliver_due_notifications()
