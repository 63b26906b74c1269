"""Another merchant's orders are invisible and unchangeable."""

import datetime

import pytest
from django.utils import timezone

from orderdesk.accounts.actors import Actor, NotAMember
from orderdesk.accounts.tests.factories import UserFactory, owner_actor
from orderdesk.orders import actions, queries
from orderdesk.orders.errors import OrderNotFound
from orderdesk.orders.models import Order, OrderEvent

from .factories import dispatched_order, pending_order

pytestmark = pytest.mark.django_db


def test_queries_show_only_the_merchants_own_orders():
    mine, theirs = owner_actor(), owner_actor()
    my_order = pending_order(mine)
    their_order = pending_order(theirs)

    assert list(queries.orders_in_tab(mine.merchant, Order.Status.PENDING)) == [my_order]
    assert queries.tab_counts(mine.merchant)[Order.Status.PENDING] == 1
    with pytest.raises(Order.DoesNotExist):
        queries.order_for_page(mine.merchant, their_order.pk)
    assert list(Order.objects.for_merchant(None)) == []


@pytest.mark.parametrize(
    "attempt",
    [
        lambda order_id, by: actions.verify_payment(order_id, by=by),
        lambda order_id, by: actions.dispatch_order(
            order_id,
            by=by,
            delivery_reference="X",
            expected_on=timezone.localdate(timezone=by.merchant.zone) + datetime.timedelta(days=1),
        ),
        lambda order_id, by: actions.fulfill_order(order_id, by=by),
        lambda order_id, by: actions.cancel_order(order_id, by=by, reason="Not mine"),
    ],
    ids=["verify", "dispatch", "fulfill", "cancel"],
)
def test_another_merchants_order_cannot_be_changed_and_looks_absent(attempt):
    mine, theirs = owner_actor(), owner_actor()
    their_pending = pending_order(theirs)
    their_dispatched = dispatched_order(theirs)

    for order in (their_pending, their_dispatched):
        status_before = order.status
        events_before = order.events.count()
        with pytest.raises(OrderNotFound, match="That order does not exist."):
            attempt(order.pk, mine)
        order.refresh_from_db()
        assert order.status == status_before
        assert order.events.count() == events_before
    assert not OrderEvent.objects.filter(actor=mine.user).exists()


def test_a_user_without_a_merchant_cannot_act():
    with pytest.raises(NotAMember, match="does not belong to a merchant"):
        Actor.for_user(UserFactory())


def test_an_order_id_that_is_not_a_number_is_simply_not_found():
    with pytest.raises(OrderNotFound):
        actions.fulfill_order("abc", by=owner_actor())
