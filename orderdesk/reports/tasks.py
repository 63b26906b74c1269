"""Celery tasks (in a thread of the web process when CELERY_BROKER_URL is unset; see background.py)."""

from celery import shared_task


@shared_task(name="orderdesk.reports.tasks.make_export", ignore_result=True)
def make_export_task(export_id: int) -> None:
    from .actions import make_export

    make_export(export_id)


@shared_task(name="orderdesk.reports.tasks.refresh_rollups", ignore_result=True)
def refresh_rollups_task(merchant_id: int | None = None) -> None:
    from orderdesk.accounts.models import Merchant

    from .rollups import refresh_all_merchants, refresh_order_figures

    if merchant_id is None:
        refresh_all_merchants()
    else:
        refresh_order_figures(Merchant.objects.get(pk=merchant_id))
