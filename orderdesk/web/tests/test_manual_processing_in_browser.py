"""The guide's manual processing in Chromium at 375 and 1280 px: on the Pending tab tick the
orders (or all on the page), Action → Place; the products no vendor hosts are listed; host one
with a vendor and a cost, choose Done for the rest; the orders are placed with their vendors,
and the order page shows each vendor's part."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from orderdesk.accounts.models import Merchant
from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.fulfillment.models import Fulfillment
from orderdesk.orders.actions import CustomerDetails, LineInput
from orderdesk.orders.tests.factories import pending_order
from orderdesk.vendors.models import Hosting
from orderdesk.vendors.tests.factories import HostingFactory, VendorFactory, variant
from orderdesk.web.tests.conftest import DESKTOP, PHONE
from orderdesk.web.tests.test_merchant_guide_in_browser import no_sideways_page_scroll

pytestmark = pytest.mark.browser


@pytest.fixture
def shop():
    """Two pending orders, not yet placed: a hosted shirt, an unhosted mug and an unhosted scarf."""
    actor = owner_actor()
    Merchant.objects.filter(pk=actor.merchant.pk).update(auto_processing=False)
    cebu = VendorFactory(merchant=actor.merchant, name="Cebu Source")
    VendorFactory(merchant=actor.merchant, name="Davao Makers")
    shirt = variant(actor.merchant, "LS-M", "M", product="Linen shirt")
    mug = variant(actor.merchant, "MG-1", product="Clay mug")
    scarf = variant(actor.merchant, "SC-1", product="Piña scarf")
    HostingFactory(variant=shirt, vendor=cebu, unit_cost=Decimal("300.00"), shipping_cost=Decimal("40.00"))

    def order(name, *items):
        return pending_order(
            actor,
            customer=CustomerDetails(name=name, phone="0917 555 0101", address="12 Mabini St, Makati"),
            lines=[
                LineInput(
                    title=v.product.title, sku=v.sku, quantity=q, unit_price=Decimal("500"), variant_id=v.pk
                )
                for v, q in items
            ],
        )

    first = order("Maria Santos", (shirt, 2), (mug, 1))
    second = order("Jose Reyes", (mug, 2), (scarf, 1))
    return {"actor": actor, "orders": [first, second], "mug": mug, "scarf": scarf}


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_select_place_host_and_done_place_the_orders_with_their_vendors(
    visitor, live_server, shop, viewport, screenshot
):
    client = Client()
    client.force_login(shop["actor"].user)
    page = visitor(viewport)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )

    page.goto("/orders/?status=pending")
    page.get_by_label("Select all on the page").check()
    for order in shop["orders"]:
        expect(page.get_by_label(f"Select order {order.reference}")).to_be_checked()
    assert no_sideways_page_scroll(page)
    screenshot(page, "60-pending-selected")

    page.get_by_text("Action", exact=True).click()
    page.get_by_role("button", name="Place with vendors").click()

    dialog = page.get_by_role("dialog", name="Products with no vendor")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text("2 products in the chosen orders have no vendor")).to_be_visible()
    expect(dialog.get_by_text("3 units in 2 orders")).to_be_visible()
    screenshot(page, "61-unhosted-list")

    dialog.get_by_label("Clay mug").check()
    dialog.get_by_label("Vendor").select_option(label="Davao Makers")
    dialog.get_by_label("Unit cost").fill("90.00")
    dialog.get_by_role("button", name="Host").click()

    expect(dialog.get_by_text("1 product in the chosen orders has no vendor")).to_be_visible()
    expect(dialog.get_by_label("Piña scarf")).to_be_visible()
    assert Hosting.objects.get(variant=shop["mug"]).unit_cost == Decimal("90.00")
    screenshot(page, "62-unhosted-after-host")

    dialog.get_by_role("button", name="Done").click()

    expect(
        page.get_by_text("Placed 2 orders with vendors: Cebu Source 2 items, Davao Makers 3 items.")
    ).to_be_visible()
    assert no_sideways_page_scroll(page)
    screenshot(page, "63-placed")
    first = shop["orders"][0]
    assert {s.vendor.name for s in Fulfillment.objects.filter(order=first).select_related("vendor")} == {
        "Cebu Source",
        "Davao Makers",
    }

    page.goto(f"/orders/{first.pk}/")
    section = page.get_by_role("heading", name="Fulfillment, cost and tracking")
    section.scroll_into_view_if_needed()
    expect(page.get_by_role("heading", name="Cebu Source")).to_be_visible()
    expect(page.get_by_role("heading", name="Davao Makers")).to_be_visible()
    assert no_sideways_page_scroll(page)
    screenshot(page, "64-order-vendor-parts")

    # The Hosting page: the scarf is still unhosted; the mug is Davao's at 90.00.
    page.goto("/vendors/hosting/")
    expect(page.locator(".hosting-row", has_text="Clay mug")).to_contain_text("Davao Makers")
    page.get_by_label("Show").select_option("unhosted")
    expect(page.get_by_label("Piña scarf")).to_be_visible()
    expect(page.get_by_label("Clay mug")).to_have_count(0)
    screenshot(page, "65-hosting-unhosted")
    wide = page.evaluate(
        "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > "
        "document.documentElement.clientWidth + 1).map(e => e.tagName + '.' + e.className).slice(0, 8)"
    )
    assert no_sideways_page_scroll(page), wide
    screenshot(page, "65-hosting-unhosted")
