"""The merchant guide, steps 2–9, walked in Chromium at phone width, plus the desktop layout."""

import datetime
import re

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.fulfillment.models import Fulfillment
from orderdesk.orders.actions import CustomerDetails
from orderdesk.orders.models import Order
from orderdesk.orders.tests.factories import dispatched_order, pending_order
from orderdesk.photos.tests.images import jpeg_upload

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"


def no_sideways_page_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def sign_in(page, email):
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def the_day_after_tomorrow(actor) -> datetime.date:
    return timezone.localdate(timezone=actor.merchant.zone) + datetime.timedelta(days=2)


def photo(name="parcel.jpg"):
    return {"name": name, "mimeType": "image/jpeg", "buffer": jpeg_upload(name).read()}


def choose_status(page, status):
    page.wait_for_load_state()  # the page's scripts have run
    page.get_by_label("Status", exact=True).select_option(status)
    expect(page).to_have_url(re.compile(f"status={status}"))


def row_of(page, order):
    return page.locator(f"#order-{order.pk}")


@pytest.fixture
def shop():
    """An owner and two paid orders waiting in Pending."""
    actor = owner_actor()
    first = pending_order(
        actor,
        customer=CustomerDetails(name="Maria Santos", phone="0917 555 0101", address="12 Mabini St, Makati"),
    )
    second = pending_order(
        actor,
        customer=CustomerDetails(
            name="Jose Reyes", phone="0918 777 1234", address="5 Rizal Ave, Quezon City"
        ),
    )
    return actor, first, second


def test_a_merchant_walks_the_guide_from_the_order_link_to_fulfilled_on_a_phone(phone, shop, screenshot):
    actor, first, second = shop
    page = phone

    # Step 1–2: the SMS link leads through sign-in and lands on the order.
    page.goto(f"/orders/{first.pk}/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(page, "01-sign-in")
    sign_in(page, actor.user.email)
    expect(page).to_have_url(re.compile(f"/orders/{first.pk}/$"))
    expect(page.get_by_role("heading", name=f"Order {first.reference}")).to_be_visible()
    assert no_sideways_page_scroll(page)
    screenshot(page, "02-order-pending")

    # Step 3–4: the three-lines button opens the menu; Order Tracking is in it.
    page.get_by_role("button", name="Menu").click()
    menu = page.get_by_role("navigation", name="Main menu")
    expect(menu).to_be_visible()
    screenshot(page, "03-menu-open")
    menu.get_by_role("link", name="Order Tracking").click()
    expect(page).to_have_url(re.compile("/orders/$"))

    # Step 5: Pending shows reference and customer; a swipe shows the rest.
    row = row_of(page, first)
    expect(row.get_by_role("link", name=first.reference)).to_be_visible()
    expect(row.get_by_text("Maria Santos")).to_be_visible()
    expect(row.get_by_text("12 Mabini St, Makati")).to_be_visible()
    assert no_sideways_page_scroll(page)
    screenshot(page, "04-tracking-pending")
    row.locator(".order-panels").evaluate("panels => panels.scrollBy({left: panels.clientWidth})")
    expect(row.get_by_text("2 × Linen shirt")).to_be_in_viewport()
    screenshot(page, "05-tracking-pending-swiped")

    # Step 6: dispatch with reference, date, a photo and a message.
    row.get_by_role("link", name="Dispatch").click()
    expect(page.get_by_role("heading", name=f"Dispatch {first.reference}")).to_be_visible()
    expect(page.get_by_text("You can attach up to 5 photos, 5 MB each")).to_be_visible()
    assert no_sideways_page_scroll(page)
    screenshot(page, "06-dispatch-form")
    page.get_by_label("Delivery reference no.").fill("JT123456789")
    page.get_by_label("Expected delivery date").fill(the_day_after_tomorrow(actor).isoformat())
    page.get_by_label("Photos of the parcel").set_input_files([photo()])
    page.get_by_label("Message to the customer (optional)").fill("Your parcel is on its way!")
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_text(f"Order {first.reference} is dispatched.")).to_be_visible()
    expect(row_of(page, first)).to_have_count(0)

    # Step 7: the Dispatched tab, chosen from the drop-down.
    choose_status(page, "dispatched")
    expect(row_of(page, first)).to_be_visible()
    expect(page.get_by_label("Status", exact=True)).to_have_value("dispatched")
    screenshot(page, "07-tracking-dispatched")

    # Step 8: the check mark opens a pop-up with optional remarks.
    row_of(page, first).get_by_role("button", name="Mark as fulfilled").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    screenshot(page, "08-fulfill-pop-up")
    dialog.get_by_label("Remarks (optional)").fill("Received by her sister")
    dialog.get_by_role("button", name="OK").click()
    expect(page.get_by_text(f"Order {first.reference} is fulfilled.")).to_be_visible()

    # Step 9: the Fulfilled tab.
    choose_status(page, "fulfilled")
    expect(row_of(page, first)).to_be_visible()
    assert no_sideways_page_scroll(page)
    screenshot(page, "09-tracking-fulfilled")

    # Or cancel, with a reason (which cannot be left out).
    choose_status(page, "pending")
    row_of(page, second).get_by_role("button", name="Cancel").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog.get_by_text("Say why the order is cancelled.")).to_be_visible()
    screenshot(page, "10-cancel-needs-a-reason")
    dialog.get_by_label("Reason for cancelling").fill("Customer asked to cancel")
    dialog.get_by_role("button", name="OK").click()
    expect(page.get_by_text(f"Order {second.reference} is cancelled.")).to_be_visible()
    choose_status(page, "cancelled")
    expect(row_of(page, second)).to_be_visible()

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.fulfill_remarks) == (Order.Status.FULFILLED, "Received by her sister")
    assert first.fulfillments.get().photos.count() == 1
    assert (second.status, second.cancel_reason) == (Order.Status.CANCELLED, "Customer asked to cancel")

    # The order page tells the whole story.
    page.goto(f"/orders/{first.pk}/")
    expect(page.get_by_text("JT123456789", exact=True)).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Dispatch photo 1"))).to_be_visible()
    expect(page.get_by_text("Remarks: Received by her sister")).to_be_visible()
    assert no_sideways_page_scroll(page)
    screenshot(page, "11-order-fulfilled")


def test_dispatch_refusals_show_their_message_beside_the_field_and_keep_what_was_typed(
    phone, shop, screenshot
):
    actor, order, _ = shop
    page = phone
    page.goto(f"/orders/{order.pk}/dispatch/")
    sign_in(page, actor.user.email)
    reference = page.get_by_label("Delivery reference no.")
    expected_on = page.get_by_label("Expected delivery date")
    photos = page.get_by_label("Photos of the parcel")
    ok = page.get_by_role("button", name="OK")
    assert expected_on.get_attribute("min") == timezone.localdate(timezone=actor.merchant.zone).isoformat()

    # Missing reference.
    expected_on.fill(the_day_after_tomorrow(actor).isoformat())
    ok.click()
    expect(page.locator("#id_delivery_reference_error")).to_have_text(
        "Enter the courier's delivery reference number."
    )
    expect(expected_on).to_have_value(the_day_after_tomorrow(actor).isoformat())
    screenshot(page, "12-dispatch-missing-reference")

    # A date in the past.
    reference.fill("JT42")
    expected_on.fill("2020-01-01")
    ok.click()
    expect(page.locator("#id_expected_on_error")).to_contain_text(
        "The expected delivery date cannot be in the past"
    )
    expect(reference).to_have_value("JT42")

    # Too many files, refused in the page before anything is sent.
    expected_on.fill(the_day_after_tomorrow(actor).isoformat())
    photos.set_input_files([photo(f"p{n}.jpg") for n in range(settings.PHOTO_MAX_FILES + 1)])
    expect(page.locator("#id_photos_error")).to_have_text(
        "You can attach up to 5 photos, 5 MB each; you chose 6 files."
    )
    ok.click()
    expect(page.locator("#id_photos_error")).to_be_visible()
    screenshot(page, "13-dispatch-too-many-photos")

    # A file too large, also refused in the page.
    photos.set_input_files(
        [{"name": "huge.jpg", "mimeType": "image/jpeg", "buffer": b"\xff" * (settings.PHOTO_MAX_BYTES + 1)}]
    )
    expect(page.locator("#id_photos_error")).to_have_text("“huge.jpg” is larger than 5 MB.")

    # A file that is not a photo: the server decodes it and refuses.
    photos.set_input_files(
        [{"name": "invoice.jpg", "mimeType": "image/jpeg", "buffer": b"%PDF-1.4 not a photo"}]
    )
    expect(page.locator("#id_photos_error")).to_have_count(0)
    ok.click()
    expect(page.locator("#id_photos_error")).to_have_text(
        "“invoice.jpg” is not a photo we can read (use JPEG, PNG or WebP)."
    )
    expect(reference).to_have_value("JT42")
    assert no_sideways_page_scroll(page)
    screenshot(page, "14-dispatch-not-a-photo")

    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not Fulfillment.objects.filter(order=order).exists()


def test_at_desktop_width_statuses_are_tabs_and_order_details_are_columns(desktop, shop, screenshot):
    actor, first, _ = shop
    shipped = dispatched_order(
        actor, customer=CustomerDetails(name="Liza Cruz", phone="0919 111 2222", address="8 Luna St, Pasig")
    )
    page = desktop
    page.goto("/")
    page.get_by_role("link", name="Sign in").click()
    sign_in(page, actor.user.email)
    expect(page.get_by_role("heading", name=re.compile("Hello"))).to_be_visible()
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    screenshot(page, "20-home")

    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Order Tracking").click()
    tabs = page.get_by_role("navigation", name="Order status")
    expect(tabs.get_by_role("link", name="Pending 2")).to_have_attribute("aria-current", "page")
    expect(page.get_by_label("Status", exact=True)).to_be_hidden()
    row = row_of(page, first)
    # Every column is on screen at once: no swipe needed.
    expect(row.get_by_text("2 × Linen shirt")).to_be_in_viewport()
    expect(row.get_by_text("J&T Express")).to_be_in_viewport()
    screenshot(page, "21-tracking-pending")

    tabs.get_by_role("link", name="Dispatched 1").click()
    expect(page).to_have_url(re.compile("status=dispatched"))
    expect(row_of(page, shipped)).to_be_visible()
    screenshot(page, "22-tracking-dispatched")

    row_of(page, shipped).get_by_role("button", name="Mark as fulfilled").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    screenshot(page, "23-fulfill-pop-up")
    page.get_by_role("dialog").get_by_role("button", name="Back").click()
    expect(page.get_by_role("dialog")).to_have_count(0)

    page.goto(f"/orders/{shipped.pk}/")
    screenshot(page, "24-order-dispatched")
    page.goto(f"/orders/{first.pk}/dispatch/")
    screenshot(page, "25-dispatch-form")
    page.goto("/account/")
    expect(page.get_by_label("Notification phone")).to_have_value(actor.merchant.notification_phone)
    screenshot(page, "26-account")


def test_the_account_page_at_phone_width_saves_contacts_and_shows_refusals(phone, shop, screenshot):
    actor, _, _ = shop
    page = phone
    page.goto("/account/")
    sign_in(page, actor.user.email)
    expect(page.get_by_role("heading", name="Account")).to_be_visible()
    assert no_sideways_page_scroll(page)

    page.get_by_label("Notification phone").fill("12ab")
    page.get_by_role("button", name="Save notification contacts").click()
    expect(page.locator("#id_notification_phone_error")).to_have_text("“12ab” is not a phone number.")
    screenshot(page, "15-account-refused-phone")

    page.get_by_label("Notification phone").fill("0917 555 0199")
    page.get_by_role("button", name="Save notification contacts").click()
    expect(page.get_by_text("Notification contacts saved.")).to_be_visible()
    expect(page.get_by_label("Notification phone")).to_have_value("+639175550199")
    screenshot(page, "16-account")
