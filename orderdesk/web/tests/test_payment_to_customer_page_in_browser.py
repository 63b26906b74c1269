"""From a verified payment to the customer's tracking page, and the owner's notification choices,
walked in Chromium."""

import re

import pytest
from playwright.sync_api import expect

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.notifications.actions import preferences_for
from orderdesk.orders.actions import CustomerDetails
from orderdesk.orders.models import Order
from orderdesk.orders.tests.factories import awaiting_order, pending_order
from orderdesk.web.tests.conftest import DESKTOP, PHONE
from orderdesk.web.tests.test_merchant_guide_in_browser import (
    no_sideways_page_scroll,
    row_of,
    sign_in,
    the_day_after_tomorrow,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def shop():
    """An owner, one paid order in Pending, and one order awaiting payment."""
    actor = owner_actor()
    pending_order(actor)
    awaiting = awaiting_order(
        actor,
        customer=CustomerDetails(
            name="Maria Santos",
            phone="0917 555 0101",
            email="maria@example.com",
            address="12 Mabini St, Makati",
        ),
    )
    return actor, awaiting


def test_a_verified_payment_tells_the_merchant_and_the_dispatched_order_is_tracked_by_the_customer(
    phone, visitor, shop, screenshot
):
    actor, order = shop
    merchant = actor.merchant
    page = phone
    page.goto("/orders/")
    sign_in(page, actor.user.email)
    expect(page.get_by_role("heading", name="Order Tracking")).to_be_visible()

    # Order Tracking points at the orders still awaiting payment.
    page.get_by_role("link", name="Awaiting payment 1").click()
    expect(page).to_have_url(re.compile("status=awaiting_payment"))
    expect(row_of(page, order)).to_be_visible()
    assert no_sideways_page_scroll(page)
    screenshot(page, "17-awaiting-payment")
    row_of(page, order).get_by_role("link", name=order.reference).click()
    expect(page.get_by_role("heading", name=f"Order {order.reference}")).to_be_visible()

    # Verify payment: a dialog, then OK.
    page.get_by_role("button", name="Verify payment").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    screenshot(page, "18-verify-payment")
    dialog.get_by_role("button", name="OK").click()
    expect(page.get_by_text(f"Order {order.reference} is paid and pending.")).to_be_visible()
    expect(page.locator(".order-header .badge")).to_have_text("Pending")

    # The order's Messages list the SMS and the email to the merchant.
    messages = page.get_by_role("region", name="Messages")
    expect(messages.get_by_text(f"SMS to merchant {merchant.notification_phone}")).to_be_visible()
    expect(messages.get_by_text(f"Email to merchant {merchant.notification_email}")).to_be_visible()
    assert no_sideways_page_scroll(page)
    screenshot(page, "19-order-paid-messages")

    # Dispatch it.
    page.get_by_role("link", name="Dispatch").click()
    page.get_by_label("Delivery reference no.").fill("JT987654321")
    page.get_by_label("Expected delivery date").fill(the_day_after_tomorrow(actor).isoformat())
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_text(f"Order {order.reference} is dispatched.")).to_be_visible()
    order.refresh_from_db()
    assert order.status == Order.Status.DISPATCHED

    # The customer opens the link from their SMS: no sign-in, a browser of their own.
    for viewport in (PHONE, DESKTOP):
        customer = visitor(viewport)
        customer.goto(f"/t/{order.customer_page_token}/")
        expect(customer.get_by_role("heading", name=f"Order {order.reference}")).to_be_visible()
        # The customer's word for Dispatched.
        expect(customer.get_by_role("status")).to_have_text("On its way")
        shipment = customer.get_by_role("region", name="Shipment")
        expect(shipment.get_by_text("J&T Express")).to_be_visible()
        expect(shipment.get_by_text("JT987654321")).to_be_visible()
        expect(customer.get_by_text("Sign in")).to_have_count(0)
        assert no_sideways_page_scroll(customer)
        screenshot(customer, "27-customer-tracking-dispatched")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_owner_chooses_which_order_notifications_are_sent(visitor, viewport, screenshot):
    actor = owner_actor()
    page = visitor(viewport)
    page.goto("/account/")
    sign_in(page, actor.user.email)
    choices = page.get_by_role("region", name="Order notifications")
    payment = choices.get_by_role("group", name="When a payment is verified")
    expect(payment.get_by_text("Tell me by")).to_be_visible()
    expect(payment.get_by_label("SMS")).to_be_checked()

    payment.get_by_label("SMS").uncheck()
    choices.get_by_role("group", name="When an order is cancelled").get_by_label("Email").uncheck()
    choices.get_by_role("button", name="Save notification choices").click()

    expect(page.get_by_text("Order notification choices saved.")).to_be_visible()
    expect(payment.get_by_label("SMS")).not_to_be_checked()
    expect(payment.get_by_label("Email")).to_be_checked()
    assert no_sideways_page_scroll(page)
    screenshot(page, "28-account-order-notifications")
    preferences = preferences_for(actor.merchant)
    assert not preferences.is_on("merchant_sms_on_payment")
    assert not preferences.is_on("customer_email_on_cancellation")
    assert preferences.is_on("merchant_email_on_payment") and preferences.is_on(
        "customer_sms_on_cancellation"
    )
