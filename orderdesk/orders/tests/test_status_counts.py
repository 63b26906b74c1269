"""The tab counts the order actions keep always equal a real count of the orders."""

import datetime

import pytest
from django.db.models import Count
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.errors import DomainError
from orderdesk.orders import actions, queries
from orderdesk.orders.counts import recount_orders
from orderdesk.orders.models import Order, OrderStatusCount

from .factories import awaiting_order

pytestmark = pytest.mark.django_db


def real_counts(merchant) -> dict[str, int]:
    counts = dict.fromkeys(Order.Status.values, 0)
    counts.update(
        Order.objects.for_merchant(merchant).values_list("status").annotate(n=Count("id")).order_by()
    )
    return counts


def kept_counts(merchant) -> dict[str, int]:
    counts = dict.fromkeys(Order.Status.values, 0)
    counts.update(OrderStatusCount.objects.for_merchant(merchant).values_list("status", "count"))
    return counts


STEPS = ["new", "new_paid", "verify", "dispatch", "fulfill", "cancel"]


def take_step(step: str, actor, target_index: int) -> None:
    orders = list(Order.objects.for_merchant(actor.merchant).order_by("pk").values_list("pk", flat=True))
    if step == "new":
        awaiting_order(actor)
        return
    if step == "new_paid":
        from .factories import new_order

        actions.record_order(new_order(), by=actor, payment_confirmed=True)
        return
    if not orders:
        return
    order_id = orders[target_index % len(orders)]
    tomorrow = timezone.localdate(timezone=actor.merchant.zone) + datetime.timedelta(days=1)
    try:
        if step == "verify":
            actions.verify_payment(order_id, by=actor)
        elif step == "dispatch":
            actions.dispatch_order(order_id, by=actor, delivery_reference="R1", expected_on=tomorrow)
        elif step == "fulfill":
            actions.fulfill_order(order_id, by=actor)
        elif step == "cancel":
            actions.cancel_order(order_id, by=actor, reason="Because")
    except DomainError:
        pass  # a refused step must leave the counts as they were, which the check below proves


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(STEPS), st.integers(0, 50)), min_size=1, max_size=25))
def test_any_sequence_of_actions_keeps_the_counts_equal_to_the_orders(steps):
    actor, bystander = owner_actor(), owner_actor()
    awaiting_order(bystander)
    for step, target in steps:
        take_step(step, actor, target)
        assert kept_counts(actor.merchant) == real_counts(actor.merchant)
    assert kept_counts(bystander.merchant) == real_counts(bystander.merchant)


def test_the_tab_counts_come_from_the_kept_counts_without_counting_orders(django_assert_num_queries):
    actor = owner_actor()
    awaiting_order(actor)
    with django_assert_num_queries(1):
        counts = queries.tab_counts(actor.merchant)
    assert counts[Order.Status.AWAITING_PAYMENT] == 1


def test_recount_rebuilds_counts_that_drifted():
    actor = owner_actor()
    awaiting_order(actor)
    OrderStatusCount.objects.filter(merchant=actor.merchant).update(count=99)

    recount_orders(actor.merchant)

    assert kept_counts(actor.merchant) == real_counts(actor.merchant)
