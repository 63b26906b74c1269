"""Manual processing over HTTP (the Pending tab's Place, the unhosted list, Host, Done), moving
units from the order page, and the order page's vendor section within its query budget."""

import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from orderdesk.accounts.models import Merchant
from orderdesk.accounts.tests.factories import MembershipFactory, owner_actor
from orderdesk.fulfillment.models import Fulfillment
from orderdesk.orders import actions
from orderdesk.orders.actions import LineInput
from orderdesk.orders.models import OrderEvent
from orderdesk.vendors.models import Hosting
from orderdesk.vendors.tests.factories import HostingFactory, VendorFactory, variant

from .factories import pending_order

pytestmark = pytest.mark.django_db

TRACKING = reverse("orders:tracking")


@pytest.fixture
def catalog(owner):
    Merchant.objects.filter(pk=owner.merchant.pk).update(auto_processing=False)
    merchant = owner.merchant
    cebu = VendorFactory(merchant=merchant, name="Cebu Source")
    davao = VendorFactory(merchant=merchant, name="Davao Makers", currency="PHP")
    shirt = variant(merchant, "LS-M", product="Linen shirt")
    mug = variant(merchant, "MG-1", product="Clay mug")
    scarf = variant(merchant, "SC-1", product="Silk scarf")
    HostingFactory(variant=shirt, vendor=cebu, unit_cost=Decimal("300.00"), shipping_cost=Decimal("40.00"))
    return {"cebu": cebu, "davao": davao, "shirt": shirt, "mug": mug, "scarf": scarf}


def order_of(owner, *items):
    return pending_order(
        owner,
        lines=[
            LineInput(
                title=v.product.title, sku=v.sku, quantity=q, unit_price=Decimal("500.00"), variant_id=v.pk
            )
            for v, q in items
        ],
    )


def test_the_pending_tab_has_a_box_per_row_select_all_and_place(owner_client, owner, catalog):
    order = order_of(owner, (catalog["shirt"], 1))

    page = owner_client.get(TRACKING, {"status": "pending"}).content.decode()
    assert f'name="orders" value="{order.pk}" form="place-form"' in page
    assert "Select all on the page" in page and "Place with vendors" in page
    other_tab = owner_client.get(TRACKING, {"status": "dispatched"}).content.decode()
    assert "Place with vendors" not in other_tab


def test_place_with_everything_hosted_places_at_once_and_says_with_whom(owner_client, owner, catalog):
    orders = [order_of(owner, (catalog["shirt"], 2)) for _ in range(2)]

    answer = owner_client.post(reverse("orders:place"), {"orders": [o.pk for o in orders]}, follow=True)

    assert "Placed 2 orders with vendors: Cebu Source 4 items." in answer.content.decode()
    assert Fulfillment.objects.filter(vendor=catalog["cebu"]).count() == 2


def test_unhosted_products_are_listed_then_host_and_done_place_the_orders(owner_client, owner, catalog):
    first = order_of(owner, (catalog["shirt"], 1), (catalog["mug"], 2))
    second = order_of(owner, (catalog["scarf"], 1), (catalog["mug"], 1))
    chosen = {"orders": [first.pk, second.pk]}

    listed = owner_client.post(
        reverse("orders:place"), chosen, headers={"HX-Request": "true"}
    ).content.decode()
    assert "<dialog" in listed and "2 products in the chosen orders have no vendor" in listed
    assert "3 units in 2 orders" in listed  # the mug
    assert not Fulfillment.objects.exists()

    hosted = owner_client.post(
        reverse("orders:place_host"),
        {**chosen, "variants": [catalog["mug"].pk], "vendor": catalog["davao"].pk, "unit_cost": "90.00"},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "1 product in the chosen orders has no vendor" in hosted and "Silk scarf" in hosted
    assert Hosting.objects.get(variant=catalog["mug"]).vendor == catalog["davao"]

    done = owner_client.post(reverse("orders:place_done"), chosen, headers={"HX-Request": "true"})
    assert done.headers["HX-Redirect"].startswith(TRACKING)
    assert {(s.order_id, s.vendor.name) for s in Fulfillment.objects.select_related("vendor")} == {
        (first.pk, "Cebu Source"),
        (first.pk, "Davao Makers"),
        (second.pk, "Davao Makers"),
    }
    # The scarf stays with the merchant.
    assert not Fulfillment.objects.filter(lines__order_line__sku="SC-1").exists()


def test_hosting_every_listed_product_places_the_orders_at_once(owner_client, owner, catalog):
    order = order_of(owner, (catalog["mug"], 1))

    answer = owner_client.post(
        reverse("orders:place_host"),
        {
            "orders": [order.pk],
            "variants": [catalog["mug"].pk],
            "vendor": catalog["davao"].pk,
            "unit_cost": "90",
        },
        headers={"HX-Request": "true"},
    )

    assert "HX-Redirect" in answer.headers
    assert Fulfillment.objects.get(order=order).vendor == catalog["davao"]


def test_a_refused_host_shows_the_reason_in_the_list_and_changes_nothing(owner_client, owner, catalog):
    order = order_of(owner, (catalog["mug"], 1))

    answer = owner_client.post(
        reverse("orders:place_host"),
        {
            "orders": [order.pk],
            "variants": [catalog["mug"].pk],
            "vendor": catalog["davao"].pk,
            "unit_cost": "-1",
        },
        headers={"HX-Request": "true"},
    )

    assert answer.status_code == 422
    assert "The unit cost must be zero or more." in answer.content.decode()
    assert not Hosting.objects.filter(variant=catalog["mug"]).exists()
    assert not Fulfillment.objects.exists()


def test_staff_place_but_only_the_owner_hosts(client, owner, catalog):
    staff = MembershipFactory(merchant=owner.merchant, role="staff")
    client.force_login(staff.user)
    order = order_of(owner, (catalog["mug"], 1), (catalog["shirt"], 1))

    listed = client.post(reverse("orders:place"), {"orders": [order.pk]}).content.decode()
    assert "Only the shop's owner can host products" in html.unescape(listed)
    hosted = client.post(
        reverse("orders:place_host"),
        {
            "orders": [order.pk],
            "variants": [catalog["mug"].pk],
            "vendor": catalog["davao"].pk,
            "unit_cost": "1",
        },
    )
    assert "Only the shop's owner can manage vendors." in html.unescape(hosted.content.decode())
    client.post(reverse("orders:place_done"), {"orders": [order.pk]})
    assert Fulfillment.objects.get(order=order).vendor == catalog["cebu"]


def test_another_merchants_orders_are_not_placed(owner_client, owner, catalog):
    theirs = pending_order(owner_actor())

    answer = owner_client.post(reverse("orders:place_done"), {"orders": [theirs.pk]}, follow=True)

    assert "That order does not exist." in answer.content.decode()
    assert not Fulfillment.objects.exists()


def test_the_order_page_shows_each_vendors_part_costs_margin_and_tracking_in_nine_queries(
    owner_client, owner, catalog, django_assert_num_queries
):
    Hosting.objects.create(
        merchant=owner.merchant, variant=catalog["mug"], vendor=catalog["davao"], unit_cost=Decimal("90.00")
    )
    order = order_of(owner, (catalog["shirt"], 2), (catalog["mug"], 1), (catalog["scarf"], 1))
    owner_client.post(reverse("orders:place_done"), {"orders": [order.pk]})
    cebu = Fulfillment.objects.get(order=order, vendor=catalog["cebu"])
    actions.move_order_shipment(cebu.pk, by=owner, to="in_transit", carrier="J&T", delivery_reference="JT-77")

    # No after-sales case on the order (its row says so): its cases are not asked for.
    with django_assert_num_queries(9):
        page = owner_client.get(reverse("orders:detail", args=[order.pk])).content.decode()

    section = page[page.index("Fulfillment, cost and tracking") :]
    assert "Cebu Source" in section and "Davao Makers" in section and "You (the merchant)" in section
    assert "JT-77" in section and "In transit" in section and "waiting for Davao Makers to accept" in section
    assert f'href="/shipments/{cebu.pk}/"' in section
    # Cost: 2 × (300 + 40) + 1 × 90 = 770; total 4 × 500 + 120 shipping fee = 2,120 → margin 1,350.
    assert "Cost PHP 770.00" in section and "Margin <strong>PHP 1,350.00</strong>" in section
    local = timezone.localtime(cebu.tracking_events.last().occurred_at, owner.merchant.zone)
    assert local.strftime("%b %-d, %Y, %H:%M") in section


def test_staff_see_the_vendor_parts_with_costs_and_margin_as_in_the_reports(client, owner, catalog):
    # Costs follow VIEW_REPORTS: staff review the reports (cost and margin by vendor) with the owner.
    staff = MembershipFactory(merchant=owner.merchant, role="staff")
    client.force_login(staff.user)
    order = order_of(owner, (catalog["shirt"], 1))
    client.post(reverse("orders:place_done"), {"orders": [order.pk]})

    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()

    assert "Cebu Source" in page
    assert "Margin" in page and "300.00" in page


def test_move_items_is_offered_on_any_order_while_its_vendor_shipment_has_not_left(
    owner_client, owner, catalog
):
    from orderdesk.orders.models import Order

    HostingFactory(variant=catalog["mug"], vendor=catalog["davao"])
    order = order_of(owner, (catalog["shirt"], 1), (catalog["mug"], 1))
    owner_client.post(reverse("orders:place_done"), {"orders": [order.pk]})
    cebu_part = Fulfillment.objects.get(order=order, vendor=catalog["cebu"])
    actions.move_order_shipment(cebu_part.pk, by=owner, to="in_transit", delivery_reference="JT1")
    # Not only a Pending order (an after-sales resend, say, gives a dispatched order a pending shipment).
    Order.objects.filter(pk=order.pk).update(status=Order.Status.DISPATCHED)

    page = owner_client.get(reverse("orders:detail", args=[order.pk])).content.decode()

    davao_part = Fulfillment.objects.get(order=order, vendor=catalog["davao"])
    assert reverse("orders:move_units", args=[davao_part.pk]) in page
    assert reverse("orders:move_units", args=[cebu_part.pk]) not in page  # in transit: it has left


def test_the_order_page_moves_units_to_another_vendor(owner_client, owner, catalog):
    order = order_of(owner, (catalog["shirt"], 3))
    owner_client.post(reverse("orders:place_done"), {"orders": [order.pk]})
    shipment = Fulfillment.objects.get(order=order)
    form = owner_client.get(reverse("orders:move_units", args=[shipment.pk])).content.decode()
    assert "Davao Makers" in form and "3 × Linen shirt" in form

    owner_client.post(
        reverse("orders:move_units", args=[shipment.pk]),
        {
            "line": order.lines.get().pk,
            "quantity": "1",
            "to_vendor": catalog["davao"].pk,
            "unit_cost": "280",
            "shipping_cost": "",
        },
    )

    page = owner_client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "1 × Linen shirt from Cebu Source to Davao Makers" in page
    assert order.events.filter(kind=OrderEvent.Kind.MOVED_TO_VENDOR).count() == 1


def test_another_merchants_shipment_cannot_be_moved(owner_client, owner, catalog):
    stranger = owner_actor()
    theirs = VendorFactory(merchant=stranger.merchant)
    their_variant = variant(stranger.merchant, "X-1")
    HostingFactory(variant=their_variant, vendor=theirs)
    order = pending_order(
        stranger,
        lines=[LineInput(title="X", quantity=1, unit_price=Decimal("1"), variant_id=their_variant.pk)],
    )
    shipment = Fulfillment.objects.get(order=order)

    assert owner_client.get(reverse("orders:move_units", args=[shipment.pk])).status_code == 404
    assert (
        owner_client.post(
            reverse("orders:move_units", args=[shipment.pk]), {"line": 1, "quantity": 1}
        ).status_code
        == 404
    )


def test_the_order_list_shows_cost_and_margin_to_the_owner(owner_client, owner, catalog):
    order = order_of(owner, (catalog["shirt"], 1))
    owner_client.post(reverse("orders:place_done"), {"orders": [order.pk]})

    page = owner_client.get(TRACKING, {"status": "pending"}).content.decode()

    row = page[page.index(f'id="order-{order.pk}"') :]
    # 1 × 500 + 120 shipping fee − (300 + 40)
    assert re.search(r"Cost 340.00 · Margin <strong[^>]*>PHP 280.00", row), row[:3000]
