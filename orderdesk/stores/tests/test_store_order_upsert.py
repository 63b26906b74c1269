"""Taking one store order in: recorded once, changes applied before dispatch, flagged after."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from orderdesk.catalog.models import Variant
from orderdesk.errors import DomainError
from orderdesk.notifications.queries import notifications_about
from orderdesk.orders import actions as order_actions
from orderdesk.orders.models import Order, OrderEvent
from orderdesk.stores.errors import MalformedStoreOrder
from orderdesk.stores.models import StoreOrderLink
from orderdesk.stores.queries import flagged_store_change
from orderdesk.stores.shopify import order_from_webhook
from orderdesk.stores.sync import Outcome, apply_incoming_order, apply_incoming_orders
from orderdesk.stores.woocommerce import order_from_json

from .factories import shopify_store, woo_store
from .peers import shopify_webhook_order, woo_order

pytestmark = pytest.mark.django_db


_taking = {"path": "one"}


@pytest.fixture(autouse=True, params=["one at a time", "in a batch"])
def _both_paths(request):
    """Every test here runs against apply_incoming_order and the batched apply_incoming_orders."""
    _taking["path"] = request.param
    yield
    _taking["path"] = "one at a time"


def _apply(store, incoming, *, notify=True):
    if _taking["path"] == "one at a time":
        return apply_incoming_order(store, incoming, notify=notify)
    (outcome,) = apply_incoming_orders(store, [incoming], notify=notify)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def _take(store, payload, **kwargs):
    return _apply(store, order_from_webhook(payload), **kwargs)


def _order_of(store, number) -> Order:
    return Order.objects.get(store=store, external_id=str(number))


def test_a_paid_unfulfilled_shopify_order_is_recorded_as_pending_with_everything_the_store_said(owner):
    store = shopify_store(owner)
    assert _take(store, shopify_webhook_order(1001, total_discounts="50.00")) == Outcome.NEW
    order = _order_of(store, 1001)
    assert order.status == Order.Status.PENDING
    assert order.payment_status == Order.PaymentStatus.PAID
    assert order.customer_name == "Rosa Reyes"
    assert order.customer_phone == "+639175550199"
    assert order.customer_email == "buyer1001@example.com"
    assert order.shipping_address == "5 Rizal Ave, Quezon City, Metro Manila, 1100, Philippines"
    assert order.shipping_option == "J&T Express"
    assert (order.shipping_fee, order.discount) == (Decimal("120.00"), Decimal("50.00"))
    assert order.total == Decimal("799.00") * 2 + Decimal("350.50") + Decimal("120.00") - Decimal("50.00")
    assert order.currency == "PHP"
    assert order.payment_method == Order.PaymentMethod.CARD
    assert [
        (line.sku, line.title, line.variant_title, line.quantity, line.unit_price)
        for line in order.lines.all()
    ] == [
        ("LS-M", "Linen shirt", "M", 2, Decimal("799.00")),
        ("CT-1", "Canvas tote", "", 1, Decimal("350.50")),
    ]
    placed = order.events.get(kind=OrderEvent.Kind.PLACED)
    assert placed.actor_name == "Shopify sync (Lakbay Shopify)"


def test_products_are_matched_by_sku_and_created_when_new(owner):
    store = shopify_store(owner)
    _take(store, shopify_webhook_order(1001))
    shirt = Variant.objects.get(merchant=owner.merchant, sku="LS-M")
    assert shirt.product.title == "Linen shirt"
    _take(store, shopify_webhook_order(1002))
    assert Variant.objects.filter(merchant=owner.merchant).count() == 2
    assert _order_of(store, 1002).lines.get(sku="LS-M").variant_id == shirt.pk


def test_the_same_order_again_changes_nothing_and_writes_no_event(owner):
    store = shopify_store(owner)
    _take(store, shopify_webhook_order(1001))
    events_before = OrderEvent.objects.count()
    assert (
        _take(store, shopify_webhook_order(1001, updated_at="2026-11-21T10:00:00+08:00")) == Outcome.UNCHANGED
    )
    assert OrderEvent.objects.count() == events_before
    assert Order.objects.count() == 1


def test_a_live_order_notifies_the_merchant_and_a_quiet_one_does_not(owner):
    store = shopify_store(owner)
    _take(store, shopify_webhook_order(1001))
    assert notifications_about(owner.merchant, "order", _order_of(store, 1001).pk).count() == 2
    _take(store, shopify_webhook_order(1002), notify=False)
    quiet = _order_of(store, 1002)
    assert quiet.status == Order.Status.PENDING
    assert not notifications_about(owner.merchant, "order", quiet.pk).exists()


def test_an_unpaid_order_waits_and_enters_when_paid(owner):
    store = shopify_store(owner)
    assert _take(store, shopify_webhook_order(1001, financial_status="pending")) == Outcome.UNCHANGED
    assert not Order.objects.exists()
    assert _take(store, shopify_webhook_order(1001)) == Outcome.NEW
    assert _order_of(store, 1001).status == Order.Status.PENDING


def test_a_change_before_dispatch_is_applied_and_the_timeline_says_what_changed(owner):
    store = shopify_store(owner)
    _take(store, shopify_webhook_order(1001))
    changed = shopify_webhook_order(1001)
    changed["shipping_address"] = {**changed["shipping_address"], "address1": "9 Luna St"}
    changed["line_items"] = changed["line_items"][:1]
    assert _take(store, changed) == Outcome.UPDATED
    order = _order_of(store, 1001)
    assert order.shipping_address.startswith("9 Luna St")
    assert order.lines.count() == 1
    assert order.total == Decimal("799.00") * 2 + Decimal("120.00")
    event = order.events.get(kind=OrderEvent.Kind.UPDATED_FROM_STORE)
    assert set(event.data["changes"]) == {"shipping_address", "lines"}
    assert event.data["changes"]["shipping_address"]["before"].startswith("5 Rizal Ave")
    assert _take(store, changed) == Outcome.UNCHANGED


def test_a_change_after_dispatch_is_flagged_and_never_applied(owner):
    store = shopify_store(owner)
    _take(store, shopify_webhook_order(1001))
    order = _order_of(store, 1001)
    order_actions.dispatch_order(
        order.pk,
        by=owner,
        delivery_reference="JT1",
        expected_on=timezone.localdate(timezone=owner.merchant.zone) + datetime.timedelta(days=2),
    )
    changed = shopify_webhook_order(1001)
    changed["line_items"] = changed["line_items"][:1]
    assert _take(store, changed) == Outcome.UPDATED
    order.refresh_from_db()
    assert order.lines.count() == 2
    assert order.status == Order.Status.DISPATCHED
    flagged = order.events.get(kind=OrderEvent.Kind.STORE_CHANGE_FLAGGED)
    assert "changed this order after it was dispatched" in flagged.data["summary"]
    assert flagged_store_change(order) == flagged.data["summary"]
    events_before = OrderEvent.objects.count()
    assert _take(store, changed) == Outcome.UNCHANGED
    assert OrderEvent.objects.count() == events_before


def test_an_order_cancelled_in_the_store_is_cancelled_here_when_not_dispatched(owner):
    store = shopify_store(owner)
    _take(store, shopify_webhook_order(1001))
    _take(store, shopify_webhook_order(1001, cancelled_at="2026-11-21T09:00:00+08:00"))
    order = _order_of(store, 1001)
    assert order.status == Order.Status.CANCELLED
    assert order.cancel_reason == "Cancelled in Lakbay Shopify."


def test_an_order_cancelled_in_the_store_after_dispatch_is_flagged_not_cancelled(owner):
    store = shopify_store(owner)
    _take(store, shopify_webhook_order(1001))
    order = _order_of(store, 1001)
    order_actions.dispatch_order(
        order.pk,
        by=owner,
        delivery_reference="JT1",
        expected_on=timezone.localdate(timezone=owner.merchant.zone) + datetime.timedelta(days=1),
    )
    _take(store, shopify_webhook_order(1001, cancelled_at="2026-11-21T09:00:00+08:00"))
    order.refresh_from_db()
    assert order.status == Order.Status.DISPATCHED
    assert (
        "cancelled this order after it was dispatched"
        in StoreOrderLink.objects.get(order=order).flagged_change
    )


def test_an_order_in_another_currency_is_refused_with_the_reason(owner):
    store = shopify_store(owner)
    with pytest.raises(MalformedStoreOrder) as refusal:
        _take(store, shopify_webhook_order(1001, currency="USD"))
    assert refusal.value.message == "The order is in USD, but the shop keeps its books in PHP."
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"quantity": 2**31}, "has a quantity of 2,147,483,648; at most 100,000"),
        ({"price": "99999999999.00"}, "is too large"),
        ({"title": "Shirt\x00"}, "contains a NUL character"),
        ({"quantity": "lots"}, "is not a number"),
    ],
)
def test_absurd_values_from_a_store_are_refused_for_that_order_with_a_clear_reason(owner, line, message):
    store = shopify_store(owner)
    payload = shopify_webhook_order(1001)
    payload["line_items"] = [{**payload["line_items"][0], **line}]
    with pytest.raises(DomainError) as refusal:
        _take(store, payload)
    assert message in refusal.value.message
    assert not Order.objects.exists()
    assert not Variant.objects.exists()


def test_a_woocommerce_processing_order_is_recorded_with_exact_prices(owner):
    store = woo_store(owner)
    assert _apply(store, order_from_json(woo_order(501))) == Outcome.NEW
    order = _order_of(store, 501)
    assert order.payment_method == Order.PaymentMethod.CASH_ON_DELIVERY
    assert order.payment_status == Order.PaymentStatus.COD_CONFIRMED
    assert order.total == Decimal("2068.50")
    assert order.customer_phone == "+639175550199"
    assert order.shipping_option == "J&T Express"


def test_a_phone_we_cannot_text_is_kept_in_the_address_rather_than_refusing_the_order(owner):
    store = woo_store(owner)
    payload = woo_order(501)
    payload["billing"]["phone"] = "call the front desk"
    _apply(store, order_from_json(payload))
    order = _order_of(store, 501)
    assert order.customer_phone == ""
    assert order.shipping_address.endswith("(phone: call the front desk)")


def test_the_order_page_timeline_says_what_the_store_changed_and_what_was_flagged(owner, owner_client):
    store = shopify_store(owner)
    _take(store, shopify_webhook_order(1001))
    changed = shopify_webhook_order(1001)
    changed["shipping_address"] = {**changed["shipping_address"], "address1": "9 Luna St"}
    _take(store, changed)
    order = _order_of(store, 1001)
    order_actions.dispatch_order(
        order.pk,
        by=owner,
        delivery_reference="JT1",
        expected_on=timezone.localdate(timezone=owner.merchant.zone) + datetime.timedelta(days=1),
    )
    _take(store, shopify_webhook_order(1001, cancelled_at="2026-11-21T09:00:00+08:00"))
    page = owner_client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "Updated from the store" in page
    assert (
        "Address: 5 Rizal Ave, Quezon City, Metro Manila, 1100, Philippines → 9 Luna St, Quezon City" in page
    )
    assert "Store change needs your attention" in page
    assert "Lakbay Shopify cancelled this order after it was dispatched." in page
