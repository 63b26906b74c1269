"""The order actions check the permission table before anything else: a refused actor changes nothing."""

import datetime

import pytest
from django.utils import timezone

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.errors import NotAllowed
from orderdesk.accounts.models import Membership
from orderdesk.accounts.tests.factories import MembershipFactory, owner_actor
from orderdesk.orders import actions
from orderdesk.orders.models import Order, OrderEvent

from .factories import awaiting_order, dispatched_order, new_order, pending_order

pytestmark = pytest.mark.django_db

ATTEMPTS = {
    "record": (None, lambda order, by: actions.record_order(new_order(), by=by), "record orders"),
    "verify": (awaiting_order, lambda order, by: actions.verify_payment(order.pk, by=by), "verify payments"),
    "dispatch": (
        pending_order,
        lambda order, by: actions.dispatch_order(
            order.pk,
            by=by,
            delivery_reference="JT1",
            expected_on=timezone.localdate(timezone=by.merchant.zone) + datetime.timedelta(days=1),
        ),
        "dispatch orders",
    ),
    "fulfill": (
        dispatched_order,
        lambda order, by: actions.fulfill_order(order.pk, by=by),
        "mark orders fulfilled",
    ),
    "cancel": (
        pending_order,
        lambda order, by: actions.cancel_order(order.pk, by=by, reason="No"),
        "cancel orders",
    ),
}


def read_only_key(merchant):
    return Actor.for_api_key(merchant, key_id="k1", label="Reports", read_write=False)


def vendor_user(merchant):
    return Actor.for_membership(MembershipFactory(merchant=merchant, role=Membership.Role.VENDOR_USER))


@pytest.mark.parametrize("action", list(ATTEMPTS))
@pytest.mark.parametrize(
    ("make_actor", "refusal"),
    [
        (read_only_key, "A read-only API key cannot {doing}."),
        (vendor_user, "Only the shop's owner and staff can {doing}."),
    ],
    ids=["read-only key", "vendor user"],
)
def test_an_actor_the_table_does_not_allow_is_refused_and_nothing_changes(action, make_actor, refusal):
    owner = owner_actor()
    make_order, attempt, doing = ATTEMPTS[action]
    order = make_order(owner) if make_order else None
    status_before = order.status if order else None
    orders_before, events_before = Order.objects.count(), OrderEvent.objects.count()

    with pytest.raises(NotAllowed) as refused:
        attempt(order, make_actor(owner.merchant))

    assert refused.value.message == refusal.format(doing=doing)
    assert (Order.objects.count(), OrderEvent.objects.count()) == (orders_before, events_before)
    if order:
        order.refresh_from_db()
        assert order.status == status_before


def test_a_read_write_key_and_the_system_may_work_on_orders_and_the_timeline_names_them():
    owner = owner_actor()
    key = Actor.for_api_key(owner.merchant, key_id="k2", label="Warehouse", read_write=True)

    order = actions.verify_payment(awaiting_order(key).pk, by=Actor.system(owner.merchant, "Payment gateway"))

    assert order.status == Order.Status.PENDING
    assert list(order.events.order_by("pk").values_list("actor_name", flat=True)[:2]) == [
        "API key “Warehouse”",
        "Payment gateway",
    ]
