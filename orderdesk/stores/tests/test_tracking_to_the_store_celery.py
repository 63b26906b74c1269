"""Tracking back to the store through Celery, as production runs it: a web process with
CELERY_BROKER_URL set dispatches a Shopify order, and a `celery -A orderdesk worker` process
sends the fulfillment to the store (the loopback double in this process), once.

The processes share this test's database and a queue of their own on the broker (the
worker fixture of orders/tests/test_order_message_celery.py); runs when
TEST_CELERY_BROKER_URL is set (see the root conftest).
"""

import time

import pytest

from orderdesk.accounts.actors import Actor
from orderdesk.notifications.models import Notification
from orderdesk.orders.models import Order
from orderdesk.orders.tests.test_order_message_celery import (  # noqa: F401
    environment,
    run_in_a_web_process,
    wait_until,
    worker,
)
from orderdesk.stores import shopify
from orderdesk.stores.sync import apply_incoming_order

from .factories import shopify_store
from .peers import shopify_node

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("notification_settings")]


def _dispatch_in_a_web_process(env: dict, order: Order, actor: Actor) -> str:
    code = (
        "import datetime\n"
        "from django.utils import timezone\n"
        "from orderdesk.accounts.actors import Actor\n"
        "from orderdesk.accounts.models import User\n"
        "from orderdesk.orders import actions\n"
        f"order = actions.dispatch_order({order.pk}, by=Actor.for_user(User.objects.get(pk={actor.user.pk})),\n"
        "    delivery_reference='JT-778812', expected_on=timezone.localdate() + datetime.timedelta(days=3))\n"
        "print('dispatched', order.status)\n"
    )
    return run_in_a_web_process(env, code)


@pytest.mark.celery
def test_a_celery_worker_sends_the_tracking_to_shopify_once(worker, owner, shopify_double):  # noqa: F811
    shopify_double.orders.append(shopify_node(5001))
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    apply_incoming_order(store, shopify.order_from_graphql(shopify_double.orders[-1]), notify=False)
    order = Order.objects.get(store=store, external_id="5001")

    output = _dispatch_in_a_web_process(worker["env"], order, owner)

    assert "dispatched dispatched" in output
    rows = Notification.objects.filter(
        about_type="order", about_id=str(order.pk), channel=Notification.Channel.STORE
    )
    assert wait_until(lambda: set(rows.values_list("status", flat=True)) == {"sent"}, seconds=60), worker[
        "log"
    ].read_text()
    time.sleep(1)  # room for a second fulfillment to show up, if one could
    [row] = rows
    assert (row.attempts, row.provider_message_id) == (1, "gid://shopify/Fulfillment/9001")
    [created] = [q for q in shopify_double.queries() if "fulfillmentCreate" in q["query"]]
    assert created["variables"]["fulfillment"]["trackingInfo"]["number"] == "JT-778812"
