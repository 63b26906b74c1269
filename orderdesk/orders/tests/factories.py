"""Orders made through the domain functions, so they hold the events and rows a real one has."""

import datetime
from decimal import Decimal

from django.utils import timezone

from orderdesk.accounts.actors import Actor
from orderdesk.orders import actions
from orderdesk.orders.actions import CustomerDetails, LineInput, NewOrder
from orderdesk.orders.models import Order


def new_order(**overrides) -> NewOrder:
    fields = {
        "customer": CustomerDetails(
            name="Maria Santos",
            phone="0917 555 0101",
            email="maria@example.com",
            address="12 Mabini St, Makati, Metro Manila",
        ),
        "lines": [
            LineInput(title="Linen shirt", sku="LS-M", quantity=2, unit_price=Decimal("799.00")),
            LineInput(title="Canvas tote", sku="CT-1", quantity=1, unit_price=Decimal("350.50")),
        ],
        "payment_method": Order.PaymentMethod.GCASH,
        "shipping_option": "J&T Express",
        "shipping_fee": Decimal("120.00"),
    }
    fields.update(overrides)
    return NewOrder(**fields)


def awaiting_order(by: Actor, **overrides) -> Order:
    return actions.record_order(new_order(**overrides), by=by)


def pending_order(by: Actor, **overrides) -> Order:
    order = awaiting_order(by, **overrides)
    return actions.verify_payment(order.pk, by=by)


def dispatched_order(by: Actor, **overrides) -> Order:
    order = pending_order(by, **overrides)
    return actions.dispatch_order(
        order.pk,
        by=by,
        delivery_reference="JT0001",
        expected_on=timezone.localdate(timezone=by.merchant.zone) + datetime.timedelta(days=2),
    )


def fulfilled_order(by: Actor, **overrides) -> Order:
    order = dispatched_order(by, **overrides)
    return actions.fulfill_order(order.pk, by=by)


def cancelled_order(by: Actor, **overrides) -> Order:
    order = pending_order(by, **overrides)
    return actions.cancel_order(order.pk, by=by, reason="Customer changed their mind")


ORDER_IN_STATUS = {
    Order.Status.AWAITING_PAYMENT: awaiting_order,
    Order.Status.PENDING: pending_order,
    Order.Status.DISPATCHED: dispatched_order,
    Order.Status.FULFILLED: fulfilled_order,
    Order.Status.CANCELLED: cancelled_order,
}
