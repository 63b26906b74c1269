import uuid

import pytest

from orderdesk.accounts.tests.factories import MerchantFactory, owner_actor
from orderdesk.customers.models import Customer
from orderdesk.notifications.models import Notification
from orderdesk.orders import actions
from orderdesk.orders.actions import CustomerDetails
from orderdesk.orders.counts import recount_orders
from orderdesk.orders.models import Order
from orderdesk.orders.tests.factories import new_order
from orderdesk.web.tests.signed_in import fresh_cache, media_in_tmp, owner, owner_client  # noqa: F401


@pytest.fixture(autouse=True)
def _isolated(fresh_cache, media_in_tmp):  # noqa: F811
    """Rate-limit counters and uploaded photos never leak from one test into the next."""


@pytest.fixture
def actor():
    """An owner whose shop hears of payments by SMS only, so one payment makes one message."""
    return owner_actor(MerchantFactory(short_name="CasaLinen", notification_email=""))


def _record_alone(new, *, by, **options):
    return actions.record_order(new, by=by, **options)


def _record_in_a_batch(new, *, by, **options):
    """record_orders with this order between two good ones: the same answer as record_order
    (the order, or its refusal raised), the others recorded all the same; then the two are
    removed again so the test sees only its own order."""
    around = [
        new_order(
            customer=CustomerDetails(name=f"Around {side}"), reference=f"AROUND-{side}-{uuid.uuid4().hex[:8]}"
        )
        for side in ("before", "after")
    ]
    results = actions.record_orders([around[0], new, around[1]], by=by, **options)
    others = [results[0].order, results[2].order]
    assert None not in others, "one order stopped the batch"
    Notification.objects.filter(about_type="order", about_id__in=[str(o.pk) for o in others]).delete()
    Order.objects.filter(pk__in=[o.pk for o in others]).delete()
    Customer.objects.filter(pk__in=[o.customer_id for o in others]).delete()
    recount_orders(by.merchant)
    if results[1].refusal is not None:
        raise results[1].refusal
    return results[1].order


@pytest.fixture(params=["record_order", "record_orders"])
def record(request):
    """The two write paths, one order at a time and in a batch, under the same tests."""
    return _record_alone if request.param == "record_order" else _record_in_a_batch
