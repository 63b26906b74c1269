"""Placing orders with vendors: auto-processing, the Pending tab's Place, moving units between vendors."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orderdesk.accounts.models import Merchant
from orderdesk.accounts.tests.factories import MerchantFactory, owner_actor
from orderdesk.fulfillment.errors import ShippingStatusRefused
from orderdesk.fulfillment.models import Fulfillment, FulfillmentLine
from orderdesk.notifications.models import Notification
from orderdesk.orders import actions, allocation
from orderdesk.orders.actions import LineInput
from orderdesk.orders.allocation_messages import TOPIC, compose_allocation_digest
from orderdesk.orders.errors import OrderNotFound
from orderdesk.orders.models import Order, OrderEvent
from orderdesk.vendors.actions import HostingTerms, host_variants
from orderdesk.vendors.tests.factories import HostingFactory, VendorFactory, variant

from .factories import awaiting_order, pending_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    """An owner whose shop sells three variants: two hosted with Cebu, one with Davao, and a fourth unhosted."""
    actor = owner_actor(MerchantFactory(notification_email="", notification_phone=""))
    merchant = actor.merchant
    cebu = VendorFactory(merchant=merchant, name="Cebu Source", contact_email="cebu@vendor.example")
    davao = VendorFactory(merchant=merchant, name="Davao Makers", contact_email="davao@vendor.example")
    shirt = variant(merchant, "LS-M", "M", product="Linen shirt")
    tote = variant(merchant, "CT-1", product="Canvas tote")
    mug = variant(merchant, "MG-1", product="Clay mug")
    scarf = variant(merchant, "SC-1", product="Silk scarf")
    HostingFactory(variant=shirt, vendor=cebu, unit_cost=Decimal("300.00"), shipping_cost=Decimal("40.00"))
    HostingFactory(variant=tote, vendor=cebu, unit_cost=Decimal("120.00"), shipping_cost=Decimal("25.00"))
    HostingFactory(variant=mug, vendor=davao, unit_cost=Decimal("90.00"), shipping_cost=Decimal("30.00"))
    return type(
        "Shop",
        (),
        {
            "actor": actor,
            "cebu": cebu,
            "davao": davao,
            "shirt": shirt,
            "tote": tote,
            "mug": mug,
            "scarf": scarf,
        },
    )


def set_auto_processing(shop, on: bool) -> None:
    Merchant.objects.filter(pk=shop.actor.merchant.pk).update(auto_processing=on)


def lines_of(*items):
    return [
        LineInput(title=v.product.title, sku=v.sku, quantity=q, unit_price=Decimal("500.00"), variant_id=v.pk)
        for v, q in items
    ]


def shipments_of(order):
    return {
        shipment.vendor.name if shipment.vendor_id else "merchant": {
            entry.order_line.sku: (entry.quantity, entry.unit_cost, entry.shipping_cost)
            for entry in shipment.lines.select_related("order_line")
        }
        for shipment in Fulfillment.objects.filter(order=order).select_related("vendor")
    }


def test_a_paid_order_is_placed_with_one_shipment_per_vendor_and_unhosted_lines_stay(shop):
    order = pending_order(
        shop.actor, lines=lines_of((shop.shirt, 2), (shop.tote, 1), (shop.mug, 3), (shop.scarf, 1))
    )

    assert shipments_of(order) == {
        "Cebu Source": {
            "LS-M": (2, Decimal("300.00"), Decimal("40.00")),
            "CT-1": (1, Decimal("120.00"), Decimal("25.00")),
        },
        "Davao Makers": {"MG-1": (3, Decimal("90.00"), Decimal("30.00"))},
    }
    assert set(Fulfillment.objects.filter(order=order).values_list("status", "shipped_by")) == {
        ("pending", "vendor")
    }
    event = order.events.get(kind=OrderEvent.Kind.PLACED_WITH_VENDORS)
    assert [(p["vendor"], p["units"]) for p in event.data["parts"]] == [
        ("Cebu Source", 3),
        ("Davao Makers", 3),
    ]
    assert event.data["auto"] is True


def test_each_vendor_gets_one_digest_email_listing_orders_and_items_without_prices(shop):
    order = pending_order(shop.actor, lines=lines_of((shop.shirt, 2), (shop.tote, 1), (shop.mug, 3)))

    digests = Notification.objects.filter(topic=TOPIC).order_by("recipient")
    assert [d.recipient for d in digests] == ["cebu@vendor.example", "davao@vendor.example"]
    composed = compose_allocation_digest(digests[0])
    for text in (composed.body, composed.html_body):
        assert order.reference in text
        assert "2 × Linen shirt" in text and "1 × Canvas tote" in text
        assert "Clay mug" not in text  # Davao's, not Cebu's
        assert "Maria Santos" in text and "+639175550101" in text and "12 Mabini St" in text
        for price in ("500", "300", "120", "40.00", str(order.total)):
            assert price not in text
    assert "1 new order to ship (3 items)" in composed.subject


def test_one_click_of_place_sends_each_vendor_one_email_for_all_its_orders(shop):
    set_auto_processing(shop, False)
    orders = [pending_order(shop.actor, lines=lines_of((shop.shirt, 1), (shop.mug, 1))) for _ in range(3)]
    assert not Fulfillment.objects.exists()

    allocation.place_orders([o.pk for o in orders], by=shop.actor)

    digests = Notification.objects.filter(topic=TOPIC)
    assert sorted(d.recipient for d in digests) == ["cebu@vendor.example", "davao@vendor.example"]
    assert all(len(d.payload["shipment_ids"]) == 3 for d in digests)
    assert "3 new orders" in compose_allocation_digest(digests[0]).subject


def test_without_auto_processing_nothing_is_placed_until_the_merchant_places_it(shop):
    set_auto_processing(shop, False)
    order = pending_order(shop.actor, lines=lines_of((shop.shirt, 2), (shop.scarf, 1)))
    assert not Fulfillment.objects.filter(order=order).exists()

    placed = allocation.place_order(order.pk, by=shop.actor)

    assert placed.units == 2
    assert shipments_of(order) == {"Cebu Source": {"LS-M": (2, Decimal("300.00"), Decimal("40.00"))}}
    assert order.events.get(kind=OrderEvent.Kind.PLACED_WITH_VENDORS).data["auto"] is False


def test_placing_again_allocates_nothing_twice(shop):
    order = pending_order(shop.actor, lines=lines_of((shop.shirt, 2), (shop.mug, 1)))

    again = allocation.place_order(order.pk, by=shop.actor)

    assert again.shipments == [] and "placed already" in again.skipped
    assert Fulfillment.objects.filter(order=order).count() == 2
    assert order.events.filter(kind=OrderEvent.Kind.PLACED_WITH_VENDORS).count() == 1


def test_a_product_hosted_after_the_order_came_in_is_placed_by_the_next_place(shop):
    order = pending_order(shop.actor, lines=lines_of((shop.shirt, 1), (shop.scarf, 2)))
    assert allocation.unhosted_products(shop.actor.merchant, [order.pk])[0].sku == "SC-1"

    host_variants([shop.scarf.pk], HostingTerms(vendor_id=shop.davao.pk, unit_cost="210.00"), by=shop.actor)
    allocation.place_order(order.pk, by=shop.actor)

    assert allocation.unhosted_products(shop.actor.merchant, [order.pk]) == []
    assert shipments_of(order)["Davao Makers"] == {"SC-1": (2, Decimal("210.00"), Decimal("0.00"))}


def test_a_cost_change_applies_to_later_allocations_only(shop):
    first = pending_order(shop.actor, lines=lines_of((shop.shirt, 1)))
    host_variants(
        [shop.shirt.pk],
        HostingTerms(vendor_id=shop.cebu.pk, unit_cost="333.00", shipping_cost="44.00"),
        by=shop.actor,
    )
    second = pending_order(shop.actor, lines=lines_of((shop.shirt, 1)))

    assert shipments_of(first)["Cebu Source"]["LS-M"] == (1, Decimal("300.00"), Decimal("40.00"))
    assert shipments_of(second)["Cebu Source"]["LS-M"] == (1, Decimal("333.00"), Decimal("44.00"))


def test_an_inactive_vendors_products_stay_with_the_merchant(shop):
    shop.cebu.is_active = False
    shop.cebu.save()

    order = pending_order(shop.actor, lines=lines_of((shop.shirt, 1), (shop.mug, 1)))

    assert set(shipments_of(order)) == {"Davao Makers"}
    assert [p.sku for p in allocation.unhosted_products(shop.actor.merchant, [order.pk])] == ["LS-M"]


def test_place_skips_an_order_that_is_no_longer_pending_and_refuses_another_merchants(shop):
    set_auto_processing(shop, False)
    waiting = awaiting_order(shop.actor, lines=lines_of((shop.shirt, 1)))
    stranger = pending_order(owner_actor())

    [placed] = allocation.place_orders([waiting.pk], by=shop.actor)
    assert "awaiting payment, not pending" in placed.skipped
    with pytest.raises(OrderNotFound):
        allocation.place_orders([waiting.pk, stranger.pk], by=shop.actor)
    assert not Fulfillment.objects.exists()


def test_auto_processing_of_an_order_with_nothing_hosted_costs_one_query(shop):
    def queries_to_verify(auto: bool) -> int:
        set_auto_processing(shop, auto)
        order = awaiting_order(shop.actor, lines=lines_of((shop.scarf, 1)))
        with CaptureQueriesContext(connection) as captured:
            actions.verify_payment(order.pk, by=shop.actor)
        return len(captured)

    queries_to_verify(auto=False)  # the first also makes the tab counts' rows
    assert queries_to_verify(auto=True) - queries_to_verify(auto=False) == 1


def test_auto_processing_of_three_lines_for_two_vendors_costs_a_fixed_handful_of_queries(shop):
    def queries_to_record(auto: bool) -> int:
        set_auto_processing(shop, auto)
        new = actions.NewOrder(
            customer=actions.CustomerDetails(name="Ana", phone="0917 555 0101", address="Makati"),
            lines=lines_of((shop.shirt, 1), (shop.tote, 2), (shop.mug, 1)),
            payment_method="card",
        )
        with CaptureQueriesContext(connection) as captured:
            actions.record_order(new, by=shop.actor, payment_confirmed=True, notify=False)
        return len(captured)

    queries_to_record(auto=False)  # the first also makes the tab counts' rows and the customer
    # The hosted lines with the units already shipped, then the shipments, their lines, their
    # tracking events and the shipment counts (one upsert for both vendors): one statement on
    # PostgreSQL (a data-modifying WITH), four on SQLite. The shipments' tracking events
    # (shipment.updated) share the order's one read of the merchant's webhook endpoints
    # (publishing_once); the timeline event joins the order's own INSERT; notify=False queues no
    # vendor digest.
    writes = 1 if connection.vendor == "postgresql" else 4
    assert queries_to_record(auto=True) - queries_to_record(auto=False) == 1 + writes


def test_notify_false_queues_no_vendor_digest_but_allocates_and_counts(shop):
    from orderdesk.fulfillment.counts import shipment_counts

    new = actions.NewOrder(
        customer=actions.CustomerDetails(name="Ana", phone="0917 555 0101", address="Makati"),
        lines=lines_of((shop.shirt, 1), (shop.mug, 1)),
        payment_method="card",
    )
    quiet = actions.record_order(new, by=shop.actor, payment_confirmed=True, notify=False)
    [batched] = actions.record_orders(
        [actions.NewOrder(**{**new.__dict__, "reference": "QUIET-2"})],
        by=shop.actor,
        payment_confirmed=True,
        notify=False,
    )

    assert not Notification.objects.filter(topic=TOPIC).exists()
    for order in (quiet, batched.order):
        assert set(Fulfillment.objects.filter(order=order).values_list("vendor__name", flat=True)) == {
            "Cebu Source",
            "Davao Makers",
        }
        assert order.events.filter(kind=OrderEvent.Kind.PLACED_WITH_VENDORS).count() == 1
    assert shipment_counts(shop.actor.merchant, vendor_id=shop.cebu.pk)["pending"] == 2
    assert shipment_counts(shop.actor.merchant, vendor_id=shop.davao.pk)["pending"] == 2

    actions.record_order(
        actions.NewOrder(**{**new.__dict__, "reference": "LOUD-1"}), by=shop.actor, payment_confirmed=True
    )
    assert Notification.objects.filter(topic=TOPIC).count() == 2  # one per vendor


def test_moving_units_to_another_vendor_takes_its_hosting_costs_and_says_so(shop):
    order = pending_order(shop.actor, lines=lines_of((shop.shirt, 3), (shop.mug, 1)))
    cebu_shipment = Fulfillment.objects.get(order=order, vendor=shop.cebu)
    line = order.lines.get(sku="LS-M")

    moved_to = allocation.move_to_vendor(
        cebu_shipment.pk, by=shop.actor, order_line_id=line.pk, quantity=2, to_vendor_id=shop.davao.pk,
        unit_cost="280.00", shipping_cost="35.00",
    )  # fmt: skip

    assert moved_to.vendor_id == shop.davao.pk
    assert shipments_of(order) == {
        "Cebu Source": {"LS-M": (1, Decimal("300.00"), Decimal("40.00"))},
        "Davao Makers": {
            "MG-1": (1, Decimal("90.00"), Decimal("30.00")),
            "LS-M": (2, Decimal("280.00"), Decimal("35.00")),
        },
    }
    event = order.events.get(kind=OrderEvent.Kind.MOVED_TO_VENDOR)
    assert event.data == {
        "title": "Linen shirt",
        "quantity": 2,
        "from_vendor": "Cebu Source",
        "to_vendor": "Davao Makers",
    }


def test_moving_every_unit_away_removes_the_empty_shipment_and_back_to_the_merchant_frees_them(shop):
    order = pending_order(shop.actor, lines=lines_of((shop.mug, 2)))
    shipment = Fulfillment.objects.get(order=order)
    line = order.lines.get()

    allocation.move_to_vendor(
        shipment.pk, by=shop.actor, order_line_id=line.pk, quantity=2, to_vendor_id=None
    )

    assert not Fulfillment.objects.filter(order=order).exists()
    assert order.events.get(kind=OrderEvent.Kind.MOVED_TO_VENDOR).data["to_vendor"] == ""


def test_a_move_to_a_vendor_not_hosting_the_product_needs_its_cost(shop):
    order = pending_order(shop.actor, lines=lines_of((shop.mug, 2)))
    shipment = Fulfillment.objects.get(order=order)

    with pytest.raises(allocation.AllocationRefused) as refusal:
        allocation.move_to_vendor(
            shipment.pk,
            by=shop.actor,
            order_line_id=order.lines.get().pk,
            quantity=1,
            to_vendor_id=shop.cebu.pk,
        )

    assert refusal.value.message == "Cebu Source does not host Clay mug: enter its unit cost."
    assert refusal.value.field == "unit_cost"
    assert shipments_of(order) == {"Davao Makers": {"MG-1": (2, Decimal("90.00"), Decimal("30.00"))}}


def test_a_shipment_in_transit_keeps_its_units(shop):
    order = pending_order(shop.actor, lines=lines_of((shop.mug, 2)))
    shipment = Fulfillment.objects.get(order=order)
    actions.move_order_shipment(shipment.pk, by=shop.actor, to="in_transit", delivery_reference="JT-9")

    with pytest.raises(ShippingStatusRefused):
        allocation.move_to_vendor(
            shipment.pk, by=shop.actor, order_line_id=order.lines.get().pk, quantity=1, to_vendor_id=None
        )

    assert FulfillmentLine.objects.get(fulfillment=shipment).quantity == 2
    assert not order.events.filter(kind=OrderEvent.Kind.MOVED_TO_VENDOR).exists()


def test_a_vendor_user_cannot_place_orders(shop):
    from orderdesk.accounts.actors import Actor
    from orderdesk.accounts.errors import NotAllowed
    from orderdesk.accounts.tests.factories import MembershipFactory

    set_auto_processing(shop, False)
    order = pending_order(shop.actor, lines=lines_of((shop.mug, 2)))
    vendor_user = Actor.for_membership(MembershipFactory(merchant=shop.actor.merchant, role="vendor_user"))

    with pytest.raises(NotAllowed):
        allocation.place_orders([order.pk], by=vendor_user)
    assert not Fulfillment.objects.filter(order=order).exists()
    assert Order.objects.get(pk=order.pk).status == "pending"


def test_a_batch_of_paid_orders_is_placed_with_one_email_per_vendor_for_the_whole_batch(shop):
    batch = [
        actions.NewOrder(
            customer=actions.CustomerDetails(name=f"Buyer {n}", phone="0917 555 0101", address="Makati"),
            lines=lines_of((shop.shirt, 1), (shop.mug, 2), (shop.scarf, 1)),
            payment_method="card",
        )
        for n in range(3)
    ]

    recorded = actions.record_orders(batch, by=shop.actor, payment_confirmed=True)

    for result in recorded:
        assert set(shipments_of(result.order)) == {"Cebu Source", "Davao Makers"}
    digests = Notification.objects.filter(topic=TOPIC)
    assert sorted(d.recipient for d in digests) == ["cebu@vendor.example", "davao@vendor.example"]
    assert all(len(d.payload["shipment_ids"]) == 3 for d in digests)


def test_a_batch_allocates_in_the_same_statements_however_many_orders_it_holds(shop):
    from orderdesk.fulfillment.counts import shipment_counts

    def statements_to_record(count: int, start: int) -> int:
        batch = [
            actions.NewOrder(
                customer=actions.CustomerDetails(name="Ana", phone="0917 555 0101", address="Makati"),
                lines=lines_of((shop.shirt, 1), (shop.tote, 2), (shop.mug, 1)),
                payment_method="card",
                reference=f"BATCH-{start + n}",
            )
            for n in range(count)
        ]
        with CaptureQueriesContext(connection) as captured:
            recorded = actions.record_orders(batch, by=shop.actor, payment_confirmed=True)
        for result in recorded:
            assert set(shipments_of(result.order)) == {"Cebu Source", "Davao Makers"}
            assert result.order.events.filter(kind=OrderEvent.Kind.PLACED_WITH_VENDORS).count() == 1
        return len(captured)

    statements_to_record(1, 0)  # the first also makes the customer and the counts' rows
    assert statements_to_record(2, 10) == statements_to_record(6, 20)
    assert shipment_counts(shop.actor.merchant, vendor_id=shop.cebu.pk)["pending"] == 9
    assert shipment_counts(shop.actor.merchant, vendor_id=shop.davao.pk)["pending"] == 9
    assert Notification.objects.filter(topic=TOPIC).count() == 2 * 3  # each vendor once per batch


def test_a_batch_past_the_parameter_limit_is_written_in_parts_and_all_of_it_is_right(shop, monkeypatch):
    """On SQLite each INSERT is split past the parameter limit (here a tiny one): every line and
    tracking event still finds its shipment, and nothing is lost or counted twice where a part
    ends. On PostgreSQL the batch goes as arrays in one statement whatever its size, checked
    the same way."""
    from orderdesk.fulfillment import actions as fulfillment_actions
    from orderdesk.fulfillment.counts import recount_shipments, shipment_counts
    from orderdesk.fulfillment.models import TrackingEvent

    monkeypatch.setattr(fulfillment_actions, "_MAX_PARAMETERS", 40)
    batch = [
        actions.NewOrder(
            customer=actions.CustomerDetails(name="Ana", phone="0917 555 0101", address="Makati"),
            lines=lines_of((shop.shirt, 1), (shop.tote, 2), (shop.mug, 1 + n)),
            payment_method="card",
            reference=f"PARTS-{n}",
        )
        for n in range(5)
    ]
    recorded = actions.record_orders(batch, by=shop.actor, payment_confirmed=True)
    for n, result in enumerate(recorded):
        assert shipments_of(result.order) == {
            "Cebu Source": {
                "LS-M": (1, Decimal("300.00"), Decimal("40.00")),
                "CT-1": (2, Decimal("120.00"), Decimal("25.00")),
            },
            "Davao Makers": {"MG-1": (1 + n, Decimal("90.00"), Decimal("30.00"))},
        }
    shipments = Fulfillment.objects.filter(order__reference__startswith="PARTS-")
    assert shipments.count() == 10
    for shipment in shipments:
        [event] = TrackingEvent.objects.filter(fulfillment=shipment)
        assert (event.status, event.merchant_id) == ("pending", shipment.merchant_id)
    kept = {
        vendor.pk: shipment_counts(shop.actor.merchant, vendor_id=vendor.pk)
        for vendor in (shop.cebu, shop.davao)
    }
    assert kept[shop.cebu.pk]["pending"] == kept[shop.davao.pk]["pending"] == 5
    recount_shipments(shop.actor.merchant)
    assert kept == {
        vendor.pk: shipment_counts(shop.actor.merchant, vendor_id=vendor.pk)
        for vendor in (shop.cebu, shop.davao)
    }
    assert Notification.objects.filter(topic=TOPIC).count() == 2
