"""Keeping OrderStatusCount in step with the orders (write side) and rebuilding it."""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Count, F

from orderdesk.notifications.webhooks import current_publish_batch

from .models import Order, OrderStatusCount


def count_status_change(merchant_id: int, *, before: str | None, after: str) -> None:
    """One order moved from `before` (None: it is new) to `after`; call inside the action's transaction."""
    if before == after:
        return
    # The count left first, then the one entered: the order the counter rows are always locked in.
    changes = {before: -1} if before is not None else {}
    changes[after] = 1
    batch = current_publish_batch()
    if batch is not None:
        # Inside an order action (publishing_once): the counters move just before its commit.
        # Every action of the merchant moves these few rows, so each holds them locked for its
        # commit alone, not for the rest of its work (test_counters_move_just_before_the_commit).
        batch.hold([(merchant_id, changes)], write=_count_held_changes)
        return
    count_status_changes(merchant_id, changes)


def _count_held_changes(held: list[tuple[int, dict[str, int]]]) -> None:
    """The changes one transaction held, summed per merchant and status, the counts left first."""
    by_merchant: dict[int, dict[str, int]] = {}
    for merchant_id, changes in held:
        summed = by_merchant.setdefault(merchant_id, {})
        for status, change in changes.items():
            summed[status] = summed.get(status, 0) + change
    for merchant_id, summed in by_merchant.items():
        ordered = sorted(summed.items(), key=lambda item: item[1] > 0)
        count_status_changes(merchant_id, dict(ordered))


def count_status_changes(merchant_id: int, changes: dict[str, int]) -> None:
    """Move each status's count by its change (+n orders entered it, -n left it), one UPDATE per
    status whatever the number of orders: a batch of new orders moves its counter once."""
    for status, change in changes.items():
        if change < 0:
            OrderStatusCount.objects.filter(
                merchant_id=merchant_id, status=status, count__gte=-change
            ).update(count=F("count") + change)
        elif change > 0:
            _add(merchant_id, status, change)


def _add(merchant_id: int, status: str, added: int) -> None:
    # Every order written moves a counter: one plain statement, without the ORM's compilation.
    with connection.cursor() as cursor:
        cursor.execute(_ADD_SQL, [added, merchant_id, status])
        updated = cursor.rowcount
    if not updated:
        # The merchant's first order in this status. Two first-timers racing: the unique
        # constraint lets one create the row; get_or_create then finds it for the other.
        row, created = OrderStatusCount.objects.get_or_create(
            merchant_id=merchant_id, status=status, defaults={"count": added}
        )
        if not created:
            OrderStatusCount.objects.filter(pk=row.pk).update(count=F("count") + added)


def count_change_sql() -> str:
    """The UPDATE that moves one status's count (params: change, merchant id, status), for a
    statement that moves it alongside other writes; none changed: the row is not there yet."""
    return _ADD_SQL


_q = connection.ops.quote_name
_ADD_SQL = (
    f"UPDATE {_q(OrderStatusCount._meta.db_table)} SET {_q('count')} = {_q('count')} + %s "
    f"WHERE {_q('merchant_id')} = %s AND {_q('status')} = %s"
)


def recount_orders(merchant) -> dict[str, int]:
    """Rebuild the merchant's counts from its orders (after a bulk import, or to repair)."""
    with transaction.atomic():
        actual = dict(
            Order.objects.for_merchant(merchant)
            .values("status")
            .annotate(n=Count("id"))
            .order_by()
            .values_list("status", "n")
        )
        OrderStatusCount.objects.filter(merchant=merchant).delete()
        OrderStatusCount.objects.bulk_create(
            OrderStatusCount(merchant=merchant, status=status, count=n) for status, n in actual.items()
        )
    return actual
