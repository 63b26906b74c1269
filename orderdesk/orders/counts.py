"""Keeping OrderStatusCount in step with the orders (write side) and rebuilding it."""

from __future__ import annotations

import functools

from django.db import connection, transaction
from django.db.models import Count, F

from orderdesk.compiled_queries import fixed_statement_cursor
from orderdesk.count_locks import ORDER_COUNTS
from orderdesk.notifications.webhooks import current_publish_batch

from .models import Order, OrderStatusCount


def count_status_change(merchant_id: int, *, before: str | None, after: str) -> None:
    """One order moved from `before` (None: it is new) to `after`; call inside the action's transaction."""
    if before == after:
        return
    changes = {before: -1} if before is not None else {}
    changes[after] = 1
    batch = current_publish_batch()
    if batch is not None:
        # Inside an order action (publishing_once): the counters move just before its commit.
        # Every action of the merchant moves these few rows, so each holds them locked for its
        # commit alone, not for the rest of its work (test_counters_move_just_before_the_commit);
        # before the shipment counts, as every transaction locks them (orderdesk.count_locks).
        batch.hold([(merchant_id, changes)], write=_count_held_changes, rank=ORDER_COUNTS)
        return
    count_status_changes(merchant_id, changes)


def _count_held_changes(held: list[tuple[int, dict[str, int]]]) -> None:
    """The changes one transaction held, summed per merchant and status: one UPDATE a merchant."""
    by_merchant: dict[int, dict[str, int]] = {}
    for merchant_id, changes in held:
        summed = by_merchant.setdefault(merchant_id, {})
        for status, change in changes.items():
            summed[status] = summed.get(status, 0) + change
    for merchant_id in sorted(by_merchant):
        count_status_changes(merchant_id, by_merchant[merchant_id])


def count_status_changes(merchant_id: int, changes: dict[str, int]) -> None:
    """Move each status's count by its change (+n orders entered it, -n left it), every status in
    one plain UPDATE whatever the number of orders: a transition moves its two counts at once, a
    batch of new orders its counter once. A count never goes below zero."""
    moved = sorted((status, change) for status, change in changes.items() if change)
    if not moved:
        return
    if connection.vendor == "postgresql":
        # One upsert, its rows taken in the order of their status, a status's first row made in
        # that same order: an UPDATE, then a separate insert of a missing row, took that row's
        # lock after the others and deadlocked with a transition moving the same two counts.
        params = [[status for status, _ in moved], [change for _, change in moved], merchant_id]
        with fixed_statement_cursor() as cursor:
            cursor.execute(_upsert_counts_sql(), params)
        return
    params: list = []
    for status, change in moved:
        params += [status, change]
    params.append(merchant_id)
    params += [status for status, _ in moved]
    with connection.cursor() as cursor:
        cursor.execute(_move_counts_sql(connection.vendor, len(moved)), params)
        found = {status for (status,) in cursor.fetchall()}
    # SQLite takes one writer at a time: a missing row made after the others waits for no one.
    for status, change in moved:
        if change > 0 and status not in found:
            _first_of_status(merchant_id, status, change)


def _first_of_status(merchant_id: int, status: str, added: int) -> None:
    # The merchant's first order in this status. Two first-timers racing: the unique
    # constraint lets one create the row; get_or_create then finds it for the other.
    row, created = OrderStatusCount.objects.get_or_create(
        merchant_id=merchant_id, status=status, defaults={"count": added}
    )
    if not created:
        OrderStatusCount.objects.filter(pk=row.pk).update(count=F("count") + added)


@functools.cache
def _upsert_counts_sql() -> str:
    """PostgreSQL: INSERT … ON CONFLICT DO UPDATE of the merchant's counts. Parameters: the
    merchant, the statuses in sorted order (an array), their changes (an array). The rows are
    taken in the order of their status, whether found or made, so two actions moving two counts
    of one merchant each (pending → dispatched, dispatched → fulfilled) never wait for each other
    in a circle. A new row starts at its change (never below zero); a count never goes below zero
    (the column refuses it: a count that drifted low stays at zero)."""
    table, count, status, merchant = (
        _q(name) for name in (OrderStatusCount._meta.db_table, "count", "status", "merchant_id")
    )
    return (
        f"WITH w (s, c, n) AS (SELECT * FROM unnest(%s::varchar[], %s::integer[]) WITH ORDINALITY) "
        f"INSERT INTO {table} ({merchant}, {status}, {count}) "
        f"SELECT %s, w.s, GREATEST(w.c, 0) FROM w ORDER BY w.n "
        f"ON CONFLICT ({merchant}, {status}) DO UPDATE SET {count} = GREATEST({table}.{count} + "
        f"(SELECT w.c FROM w WHERE w.s = EXCLUDED.{status}), 0)"
    )


@functools.cache
def _move_counts_sql(vendor: str, statuses: int) -> str:
    """SQLite: UPDATE … RETURNING the statuses whose row was there. Parameters: (status, change)
    for each status in sorted order, the merchant, the statuses. No count below zero (the column
    refuses it): a count that drifted low stays at zero."""
    table, count, status, merchant = (
        _q(name) for name in (OrderStatusCount._meta.db_table, "count", "status", "merchant_id")
    )
    change = f"CASE {status} {' '.join(['WHEN %s THEN %s'] * statuses)} ELSE 0 END"
    listed = ", ".join(["%s"] * statuses)
    where = f"{merchant} = %s AND {status} IN ({listed})"
    return f"UPDATE {table} SET {count} = MAX({count} + {change}, 0) WHERE {where} RETURNING {status}"


def count_change_sql() -> str:
    """The UPDATE that moves one status's count (params: change, merchant id, status), for a
    statement that moves it alongside other writes; none changed: the row is not there yet."""
    return _ADD_SQL


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


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
