"""A vendor's day in Chromium, at 375 and 1280 px: sign in, find the shipment in the work list,
accept it, add the carrier and tracking, report an exception, mark it delivered."""

import pytest
from playwright.sync_api import expect

from orderdesk.accounts.models import Membership
from orderdesk.accounts.tests.factories import MembershipFactory, owner_actor
from orderdesk.fulfillment.models import Fulfillment
from orderdesk.orders.actions import move_order_shipment
from orderdesk.orders.models import Order
from orderdesk.orders.tests.factories import pending_order
from orderdesk.shipments.tests.factories import vendor_shipment
from orderdesk.vendors.tests.factories import VendorFactory
from orderdesk.web.tests.conftest import DESKTOP, PHONE
from orderdesk.web.tests.test_merchant_guide_in_browser import no_sideways_page_scroll, sign_in

pytestmark = pytest.mark.browser
Status = Fulfillment.ShippingStatus


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_a_vendors_day_accept_tracking_exception_delivered(visitor, screenshot, viewport):
    owner = owner_actor()
    vendor = VendorFactory(merchant=owner.merchant, name="Cebu Weavers", processing_days=2)
    order = pending_order(owner)
    shipment = vendor_shipment(owner, vendor, order=order)
    agent = MembershipFactory(merchant=owner.merchant, role=Membership.Role.VENDOR_USER, vendor=vendor).user
    page = visitor(viewport)

    page.goto("/")
    page.get_by_role("link", name="Sign in").first.click()
    sign_in(page, agent.email)
    expect(page.get_by_role("heading", name="Your shipments")).to_be_visible()
    expect(page.locator(f"#shipment-{shipment.pk}")).to_contain_text("Maria Santos")
    assert no_sideways_page_scroll(page)
    screenshot(page, "vendor-01-work-list")

    page.get_by_role("link", name=order.reference).click()
    expect(page.get_by_role("heading", name=f"Shipment of order {order.reference}")).to_be_visible()
    expect(page.get_by_text("12 Mabini St, Makati, Metro Manila")).to_be_visible()
    assert "799" not in page.content()
    assert no_sideways_page_scroll(page)
    screenshot(page, "vendor-02-shipment")

    page.get_by_role("button", name="Accept — we are preparing it").click()
    expect(page.locator("#shipment-status")).to_have_text("Processing")

    # The tracking form is open once the parcel is being prepared.
    page.get_by_label("Carrier").fill("LBC")
    page.get_by_role("button", name="Mark in transit").click()
    expect(page.get_by_text("Enter the tracking number.")).to_be_visible()
    expect(page.get_by_label("Carrier")).to_have_value("LBC")
    screenshot(page, "vendor-03-refused")
    page.get_by_label("Tracking number").fill("LBC123456")
    page.get_by_label("Tracking link").fill("https://lbc.example/t/LBC123456")
    page.get_by_role("button", name="Mark in transit").click()
    expect(page.locator("#shipment-status")).to_have_text("In transit")
    expect(page.locator("#tracking-number")).to_have_text("LBC123456")

    page.get_by_text("Report a problem (Exception)").click()
    page.get_by_label("What went wrong").fill("Parcel held at the Cebu depot")
    page.get_by_role("button", name="Report the exception").click()
    expect(page.locator("#shipment-status")).to_have_text("Exception")
    expect(page.get_by_text("Parcel held at the Cebu depot")).to_be_visible()
    screenshot(page, "vendor-04-exception")

    page.get_by_role("button", name="Mark delivered").click()
    expect(page.locator("#shipment-status")).to_have_text("Delivered")
    assert no_sideways_page_scroll(page)
    screenshot(page, "vendor-05-delivered")

    shipment.refresh_from_db()
    assert shipment.status == Status.DELIVERED
    assert Order.objects.get(pk=order.pk).status == Order.Status.DISPATCHED


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_the_merchant_reads_shipping_status_from_tabs_or_the_drop_down(visitor, screenshot, viewport):
    owner = owner_actor()
    vendor = VendorFactory(merchant=owner.merchant, name="Cebu Weavers", processing_days=0)
    waiting = vendor_shipment(owner, vendor)
    on_its_way = vendor_shipment(owner, vendor)
    move_order_shipment(
        on_its_way.pk, by=owner, to=Status.IN_TRANSIT, carrier="LBC", delivery_reference="LBC1"
    )
    page = visitor(viewport)

    page.goto("/shipments/")
    sign_in(page, owner.user.email)
    expect(page.locator(f"#shipment-{waiting.pk}")).to_contain_text("Needs attention")
    # The list shows before the page's scripts run; a choice made before then is not submitted.
    page.wait_for_load_state("load")
    if viewport == PHONE:
        page.get_by_role("combobox", name="Shipping status").select_option("in_transit")
    else:
        page.get_by_role("navigation", name="Shipping status").get_by_role(
            "link", name="In transit 1"
        ).click()
    expect(page.locator(f"#shipment-{on_its_way.pk}")).to_contain_text("LBC LBC1")
    assert no_sideways_page_scroll(page)
    screenshot(page, "vendor-06-merchant-shipping-status")
