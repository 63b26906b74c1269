"""What after-sales does to an order's money, kept on the order's row.

orderdesk.aftersales owns the cases; the orders app cannot read them (it comes first in the
dependency order). So each after-sales step that opens a case or moves money calls
`record_after_sales_money` inside its own transaction, with the order row locked, and the
order page and Order Tracking read the margin off the row. aftersales.queries.costs_and_refunds
counts the same figures again from the cases (the tests hold the two equal).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import F

from .models import Order

ZERO = Decimal("0")


def record_after_sales_money(
    order: Order,
    *,
    cases_opened: int = 0,
    refunded: Decimal = ZERO,
    vendor_credit: Decimal = ZERO,
    resend_cost: Decimal = ZERO,
) -> None:
    """Add what one after-sales step did to the order's kept figures (and to `order` in memory).

    Called by orderdesk.aftersales.actions in the step's transaction, after it locked the order
    row (select_for_update), so no other step changes the figures in between. Raises ValueError
    outside a transaction or for a negative amount: every step adds, none takes back.
    """
    if not transaction.get_connection().in_atomic_block:
        raise ValueError("After-sales money is recorded in the step's transaction, the order locked.")
    changes = {
        "after_sales_case_count": cases_opened,
        "refunded_total": refunded,
        "vendor_credit_total": vendor_credit,
        "resend_cost_total": resend_cost,
    }
    if any(amount < 0 for amount in changes.values()):
        raise ValueError("After-sales figures only grow.")
    changed = {name: amount for name, amount in changes.items() if amount}
    if not changed:
        return
    # F(): the row's own figures, whatever this instance was read with.
    Order.objects.filter(pk=order.pk).update(**{name: F(name) + amount for name, amount in changed.items()})
    for name, amount in changed.items():
        setattr(order, name, getattr(order, name) + amount)
