"""A worker that dies while taking in a webhook's order leaves the delivery received, so the
task's redelivery (or the poll) takes it in; never processed without its order (the load test
found this: a worker killed between the two used to lose the order)."""

import json

import pytest

from orderdesk.orders.models import Order
from orderdesk.stores import sync
from orderdesk.stores.models import InboundDelivery, SyncRun

from .factories import shopify_store
from .peers import shopify_webhook_order


class WorkerDied(BaseException):
    """Stands for the process ending mid-task (nothing in the task catches it)."""


@pytest.mark.django_db(transaction=True)
def test_a_delivery_interrupted_while_its_order_is_taken_in_stays_received_and_is_taken_in_later(
    owner, monkeypatch
):
    store = shopify_store(owner)
    delivery = InboundDelivery.objects.create(
        merchant_id=store.merchant_id,
        store=store,
        delivery_id="wh-crash",
        topic="orders/paid",
        body=json.dumps(shopify_webhook_order(4242)),
    )

    def die(*args, **kwargs):
        raise WorkerDied

    with monkeypatch.context() as patched:
        # Whichever path takes the order in (a burst of deliveries goes in together).
        patched.setattr(sync, "apply_incoming_order", die)
        patched.setattr(sync, "apply_incoming_orders", die)
        with pytest.raises(WorkerDied):
            sync.process_delivery(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.outcome == InboundDelivery.Outcome.RECEIVED
    assert not SyncRun.objects.exists()
    assert not Order.objects.filter(external_id="4242").exists()

    assert sync.process_delivery(delivery.pk) == InboundDelivery.Outcome.PROCESSED
    assert Order.objects.filter(store=store, external_id="4242").count() == 1
    assert SyncRun.objects.get().new_count == 1
