"""Webhooks in: signed by the documented algorithm, stored once, taken in after commit."""

import datetime
import json
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.orders.models import Order, OrderEvent
from orderdesk.stores.models import InboundDelivery, SyncRun
from orderdesk.stores.webhooks import signature_of

from .factories import SHOPIFY_SECRET, WOO_WEBHOOK_SECRET, shopify_store, woo_store
from .peers import shopify_webhook_order, woo_order


def _shopify_post(
    client, store, body: bytes, *, secret=SHOPIFY_SECRET, topic="orders/paid", webhook_id="wh-1", **headers
):
    signed = {"HTTP_X_SHOPIFY_HMAC_SHA256": signature_of(body, secret)} if secret else {}
    return client.post(
        reverse("stores:shopify_webhook", args=[store.webhook_token]),
        body,
        content_type="application/json",
        HTTP_X_SHOPIFY_TOPIC=topic,
        HTTP_X_SHOPIFY_WEBHOOK_ID=webhook_id,
        **{**signed, **headers},
    )


def _woo_post(
    client, store, body: bytes, *, secret=WOO_WEBHOOK_SECRET, topic="order.created", delivery="d-1"
):
    return client.post(
        reverse("stores:woocommerce_webhook", args=[store.webhook_token]),
        body,
        content_type="application/json",
        HTTP_X_WC_WEBHOOK_SIGNATURE=signature_of(body, secret),
        HTTP_X_WC_WEBHOOK_TOPIC=topic,
        HTTP_X_WC_WEBHOOK_DELIVERY_ID=delivery,
    )


def _body(payload) -> bytes:
    return json.dumps(payload).encode()


@pytest.mark.django_db
def test_a_signed_orders_paid_webhook_records_the_order_after_commit(
    client, owner, django_capture_on_commit_callbacks
):
    store = shopify_store(owner)
    with django_capture_on_commit_callbacks(execute=True):
        answer = _shopify_post(client, store, _body(shopify_webhook_order(1001)))
    assert answer.status_code == 200
    assert answer.json() == {"status": "accepted"}
    order = Order.objects.get(store=store, external_id="1001")
    assert order.status == Order.Status.PENDING
    delivery = InboundDelivery.objects.get()
    assert (delivery.topic, delivery.delivery_id, delivery.outcome) == ("orders/paid", "wh-1", "processed")
    run = SyncRun.objects.get(kind=SyncRun.Kind.WEBHOOK)
    assert (run.new_count, run.failed_count) == (1, 0)


@pytest.mark.django_db
def test_nothing_is_taken_in_before_the_delivery_is_committed(
    client, owner, django_capture_on_commit_callbacks
):
    store = shopify_store(owner)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _shopify_post(client, store, _body(shopify_webhook_order(1001)))
    assert len(callbacks) == 1
    assert InboundDelivery.objects.get().outcome == InboundDelivery.Outcome.RECEIVED
    assert not Order.objects.exists()


def _one_wrong_byte(signature: str) -> str:
    return ("A" if signature[0] != "A" else "B") + signature[1:]


@pytest.mark.django_db
@pytest.mark.parametrize("forgery", ["one wrong byte", "missing header", "another store's secret", "empty"])
def test_a_bad_or_missing_shopify_signature_is_refused_and_nothing_is_stored(client, owner, forgery):
    store = shopify_store(owner)
    other = shopify_store(owner_actor(), name="Other shop")
    body = _body(shopify_webhook_order(1001))
    right = signature_of(body, SHOPIFY_SECRET)
    headers = {
        "one wrong byte": {"HTTP_X_SHOPIFY_HMAC_SHA256": _one_wrong_byte(right)},
        "missing header": {},
        "another store's secret": {
            "HTTP_X_SHOPIFY_HMAC_SHA256": signature_of(body, "the other shop's secret")
        },
        "empty": {"HTTP_X_SHOPIFY_HMAC_SHA256": ""},
    }[forgery]
    assert other.pk
    answer = _shopify_post(client, store, body, secret=None, **headers)
    assert answer.status_code == 401
    assert answer.json()["error"] == "The X-Shopify-Hmac-Sha256 signature is missing or wrong."
    assert not InboundDelivery.objects.exists()
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_a_webhook_for_an_unknown_store_is_not_found(client, owner):
    store = shopify_store(owner)
    body = _body(shopify_webhook_order(1001))
    answer = client.post(
        "/stores/no-such-token/webhooks/shopify/",
        body,
        content_type="application/json",
        HTTP_X_SHOPIFY_HMAC_SHA256=signature_of(body, SHOPIFY_SECRET),
    )
    assert answer.status_code == 404
    # A Shopify store's token is not a WooCommerce address either.
    assert _woo_post(client, store, body).status_code == 404
    assert not InboundDelivery.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<order/>", "The body is not JSON."),
        (b"[1, 2]", "The body is not a JSON object."),
        (b'{"id": 5}', "The order is missing: line_items."),
        (b"{}", "The order is missing: id, line_items."),
    ],
)
def test_a_signed_body_that_is_not_an_order_is_refused_saying_what_is_wrong(client, owner, body, message):
    store = shopify_store(owner)
    answer = _shopify_post(client, store, body)
    assert answer.status_code == 400
    assert answer.json()["error"] == message
    assert not InboundDelivery.objects.exists()


@pytest.mark.django_db
def test_a_topic_orderdesk_does_not_take_is_refused(client, owner):
    store = shopify_store(owner)
    answer = _shopify_post(client, store, _body(shopify_webhook_order(1001)), topic="products/create")
    assert answer.status_code == 400
    assert "products/create" in answer.json()["error"]
    assert not InboundDelivery.objects.exists()


@pytest.mark.django_db
def test_a_body_over_the_limit_is_refused_with_413(client, owner, settings):
    settings.STORE_WEBHOOK_MAX_BYTES = 1000
    store = shopify_store(owner)
    payload = shopify_webhook_order(1001, note="x" * 2000)
    answer = _shopify_post(client, store, _body(payload))
    assert answer.status_code == 413
    assert answer.json()["error"] == "The body is over 1000 bytes."
    assert not InboundDelivery.objects.exists()


@pytest.mark.django_db
def test_a_repeated_webhook_id_is_stored_and_taken_in_once(client, owner, django_capture_on_commit_callbacks):
    store = shopify_store(owner)
    body = _body(shopify_webhook_order(1001))
    with django_capture_on_commit_callbacks(execute=True):
        _shopify_post(client, store, body)
        again = _shopify_post(client, store, body)
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate"}
    assert InboundDelivery.objects.count() == 1
    assert SyncRun.objects.count() == 1


@pytest.mark.django_db
def test_orders_cancelled_cancels_the_pending_order(client, owner, django_capture_on_commit_callbacks):
    store = shopify_store(owner)
    with django_capture_on_commit_callbacks(execute=True):
        _shopify_post(client, store, _body(shopify_webhook_order(1001)))
        _shopify_post(
            client,
            store,
            _body(shopify_webhook_order(1001, cancelled_at="2026-11-21T09:00:00+08:00")),
            topic="orders/cancelled",
            webhook_id="wh-2",
        )
    assert Order.objects.get().status == Order.Status.CANCELLED


@pytest.mark.django_db
def test_woocommerce_ping_is_answered(client, owner):
    store = woo_store(owner)
    answer = client.post(
        reverse("stores:woocommerce_webhook", args=[store.webhook_token]),
        "webhook_id=17",
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code == 200
    assert not InboundDelivery.objects.exists()


@pytest.mark.django_db
def test_a_signed_woocommerce_order_created_webhook_records_the_order(
    client, owner, django_capture_on_commit_callbacks
):
    store = woo_store(owner)
    with django_capture_on_commit_callbacks(execute=True):
        answer = _woo_post(client, store, _body(woo_order(501)))
    assert answer.status_code == 200
    assert Order.objects.get(store=store, external_id="501").status == Order.Status.PENDING


@pytest.mark.django_db
def test_a_woocommerce_webhook_signed_with_another_secret_is_refused(client, owner):
    store = woo_store(owner)
    answer = _woo_post(client, store, _body(woo_order(501)), secret="not the secret")
    assert answer.status_code == 401
    assert answer.json()["error"] == "The X-WC-Webhook-Signature signature is missing or wrong."
    assert not InboundDelivery.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_same_order_delivered_ten_times_at_once_makes_one_order_and_one_event():
    owner = owner_actor()
    store = shopify_store(owner)
    body = _body(shopify_webhook_order(1001))
    barrier = threading.Barrier(10)
    answers: list = [None] * 10

    def deliver(index):
        try:
            barrier.wait()
            # Shopify sends orders/paid and orders/updated for one order: different webhook ids.
            answers[index] = _shopify_post(Client(), store, body, webhook_id=f"wh-{index}").status_code
        except BaseException as failure:
            answers[index] = failure
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert answers == [200] * 10
    assert Order.objects.count() == 1
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.PLACED).count() == 1
    assert InboundDelivery.objects.filter(outcome="processed").count() == 10
    runs = SyncRun.objects.filter(kind=SyncRun.Kind.WEBHOOK)
    assert sum(run.new_count for run in runs) == 1
    assert sum(run.unchanged_count for run in runs) == 9


@pytest.mark.django_db(transaction=True)
def test_the_same_order_from_webhooks_and_polls_at_once_makes_one_order_and_one_event(shopify_double):
    from orderdesk.stores.sync import sync_store
    from orderdesk.stores.tests.peers import shopify_node

    recent = (timezone.now() - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    shopify_double.orders = [shopify_node(1001, createdAt=recent, updatedAt=recent)]
    owner = owner_actor()
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    body = _body(shopify_webhook_order(1001))
    barrier = threading.Barrier(10)
    outcomes: list = [None] * 10

    def deliver(index):
        try:
            barrier.wait()
            if index % 2:
                outcomes[index] = _shopify_post(Client(), store, body, webhook_id=f"wh-{index}").status_code
            else:
                outcomes[index] = sync_store(store.pk, kind=SyncRun.Kind.POLL).outcome
        except BaseException as failure:
            outcomes[index] = failure
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes == ["done", 200] * 5
    assert Order.objects.count() == 1
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.PLACED).count() == 1


@pytest.mark.django_db
def test_deliveries_to_a_paused_store_wait_and_are_taken_in_on_resume(
    client, owner, django_capture_on_commit_callbacks
):
    from orderdesk.stores import actions

    store = shopify_store(owner)
    actions.pause_store(store.pk, by=owner)
    with django_capture_on_commit_callbacks(execute=True):
        assert _shopify_post(client, store, _body(shopify_webhook_order(1001))).status_code == 200
    assert InboundDelivery.objects.get().outcome == InboundDelivery.Outcome.RECEIVED
    assert not Order.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        actions.resume_store(store.pk, by=owner)
    assert InboundDelivery.objects.get().outcome == InboundDelivery.Outcome.PROCESSED
    assert Order.objects.get().external_id == "1001"


@pytest.mark.django_db
def test_the_poll_takes_in_a_delivery_left_unprocessed(
    client, owner, shopify_double, django_capture_on_commit_callbacks
):
    from orderdesk.stores.sync import poll_all_stores

    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    # The process stopped after storing the delivery: its after-commit work never ran.
    with django_capture_on_commit_callbacks(execute=False):
        _shopify_post(client, store, _body(shopify_webhook_order(1001)))
    InboundDelivery.objects.update(received_at=timezone.now() - datetime.timedelta(minutes=5))
    poll_all_stores()
    assert InboundDelivery.objects.get().outcome == InboundDelivery.Outcome.PROCESSED
    assert Order.objects.get().external_id == "1001"


@pytest.mark.django_db
def test_a_webhook_is_answered_in_two_statements_and_a_removed_stores_address_is_404(
    client, owner, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """The answer's budget: the store by its token, the delivery inserted once (its duplicate
    found by the same INSERT); nothing else before the store hears back."""
    store = shopify_store(owner)
    body = _body(shopify_webhook_order(1001))
    with django_capture_on_commit_callbacks(execute=False), django_assert_num_queries(2):
        assert _shopify_post(client, store, body).json() == {"status": "accepted"}
    with django_assert_num_queries(2):
        assert _shopify_post(client, store, body).json() == {"status": "duplicate"}
    delivery = InboundDelivery.objects.get()
    assert (delivery.merchant_id, delivery.store_id, delivery.outcome) == (
        owner.merchant.pk,
        store.pk,
        "received",
    )
    assert delivery.received_at <= timezone.now()
    store.removed_at = timezone.now()
    store.save(update_fields=["removed_at"])
    assert _shopify_post(client, store, body, webhook_id="wh-2").status_code == 404
    assert InboundDelivery.objects.count() == 1


@pytest.mark.django_db
def test_deliveries_waiting_are_taken_in_together_in_the_order_they_arrived_each_logged_on_its_own(
    client, owner, django_capture_on_commit_callbacks, monkeypatch
):
    """A burst of webhooks: the first job takes in every delivery of its store still waiting,
    through the batched path (record_orders), in arrival order; each keeps its sync run; the
    jobs queued for the others find them done. A bad one is refused in its own run."""
    from orderdesk.orders import actions as order_actions
    from orderdesk.orders.models import OrderEvent
    from orderdesk.stores import sync

    store, elsewhere = shopify_store(owner), shopify_store(owner, name="Other shop")
    with django_capture_on_commit_callbacks(execute=False) as jobs:
        _shopify_post(client, store, _body(shopify_webhook_order(1)), webhook_id="a")
        _shopify_post(client, store, _body(shopify_webhook_order(2)), webhook_id="b")
        # Order 1 cancelled after it was paid: applied after it went in.
        _shopify_post(
            client,
            store,
            _body(shopify_webhook_order(1, cancelled_at="2026-11-20T17:00:00+08:00")),
            topic="orders/cancelled",
            webhook_id="c",
        )
        _shopify_post(client, store, _body(shopify_webhook_order(3, currency="USD")), webhook_id="d")
        _shopify_post(client, elsewhere, _body(shopify_webhook_order(9)), webhook_id="e")
    assert len(jobs) == 5
    monkeypatch.setattr(order_actions, "record_order", lambda *a, **k: pytest.fail("one at a time"))

    first = InboundDelivery.objects.get(delivery_id="b")
    assert sync.process_delivery(first.pk) == InboundDelivery.Outcome.PROCESSED

    outcomes = dict(InboundDelivery.objects.filter(store=store).values_list("delivery_id", "outcome"))
    assert outcomes == {"a": "processed", "b": "processed", "c": "processed", "d": "failed"}
    assert InboundDelivery.objects.get(delivery_id="e").outcome == "received"  # another store's
    assert Order.objects.get(store=store, external_id="1").status == Order.Status.CANCELLED
    assert Order.objects.get(store=store, external_id="2").status == Order.Status.PENDING
    assert not Order.objects.filter(external_id="3").exists()
    runs = SyncRun.objects.filter(store=store, kind=SyncRun.Kind.WEBHOOK)
    assert sorted((r.new_count, r.updated_count, r.failed_count) for r in runs) == [
        (0, 0, 1),
        (0, 1, 0),
        (1, 0, 0),
        (1, 0, 0),
    ]
    assert [f["reason"] for r in runs for f in r.failures] == [
        "The order is in USD, but the shop keeps its books in PHP."
    ]
    # Live orders notify as they do one at a time: the merchant hears of each payment and of
    # the cancellation.
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.PLACED, order__store=store).count() == 2
    queued = OrderEvent.objects.filter(kind=OrderEvent.Kind.NOTIFICATIONS_QUEUED, order__store=store)
    assert sorted(queued.values_list("order__external_id", flat=True)) == ["1", "1", "2"]
    # The jobs queued for the others find nothing left to do.
    for delivery_id in "acd":
        delivery = InboundDelivery.objects.get(delivery_id=delivery_id)
        assert sync.process_delivery(delivery.pk) == delivery.outcome
    assert SyncRun.objects.filter(store=store).count() == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_webhook_is_answered_while_a_batch_of_its_store_holds_the_merchant_lock(owner):
    """Taking orders in holds the merchant row's lock until its batch commits; storing a new
    delivery (a row that references the merchant) must not wait for it. The lock is FOR NO
    KEY UPDATE, which an INSERT's foreign-key check (KEY SHARE) passes; FOR UPDATE blocked it."""
    from unittest import mock

    from django.db import transaction
    from django.db.models import F

    from orderdesk.accounts.models import Merchant
    from orderdesk.stores import sync

    store = shopify_store(owner)
    held, release = threading.Event(), threading.Event()

    def take_in():
        try:
            with transaction.atomic():
                sync.lock_merchant(store.merchant_id)
                # As record_orders does: the order counter moves under the lock.
                Merchant.objects.filter(pk=store.merchant_id).update(
                    last_order_number=F("last_order_number") + 1
                )
                held.set()
                release.wait(10)
        finally:
            connection.close()

    taking_in = threading.Thread(target=take_in)
    taking_in.start()
    try:
        assert held.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")
        with mock.patch("orderdesk.stores.webhooks.process_after_commit", lambda delivery_id: None):
            answer = _shopify_post(Client(), store, _body(shopify_webhook_order(5150)))
        assert answer.status_code == 200
        assert InboundDelivery.objects.filter(store=store).count() == 1
    finally:
        release.set()
        taking_in.join()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
