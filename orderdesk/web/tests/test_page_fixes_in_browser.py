"""What the merchant sees, checked in Chromium at phone and desktop width (issue 15, items 10–19):
long messages, the message counter, stale pop-ups, cut labels, due dates in words, one name for
Awaiting payment, swipe hints, the labelled check mark, store orders, refused photos, sign-in."""

import datetime
import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.fulfillment.models import Fulfillment
from orderdesk.orders import actions
from orderdesk.orders.actions import MAX_MESSAGE_LENGTH, CustomerDetails
from orderdesk.orders.models import Order
from orderdesk.orders.tests.factories import (
    awaiting_order,
    cancelled_order,
    dispatched_order,
    pending_order,
)
from orderdesk.stores.models import Store
from orderdesk.web.tests.conftest import DESKTOP, PHONE
from orderdesk.web.tests.test_merchant_guide_in_browser import no_sideways_page_scroll, row_of

pytestmark = pytest.mark.browser

VIEWPORTS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])


@pytest.fixture
def owner():
    return owner_actor()


@pytest.fixture
def signed_in(visitor, live_server, owner):
    """signed_in(viewport): a page whose browser already holds the owner's session."""

    def open_page(viewport):
        client = Client()
        client.force_login(owner.user)
        page = visitor(viewport)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )
        return page

    return open_page


def today(owner) -> datetime.date:
    return timezone.localdate(timezone=owner.merchant.zone)


def show_panel(page, order, panel: str):
    """On a phone, swipe the row to one of its panels (as a finger would); on a desktop all show."""
    row_of(page, order).locator(f".panel-{panel}").scroll_into_view_if_needed()


# A text fits its box when the browser's own measure of it is no wider than the room inside.
TEXT_FITS = """([element, text]) => {
  const style = getComputedStyle(element);
  const context = document.createElement("canvas").getContext("2d");
  context.font = style.font;
  const room = element.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return context.measureText(text).width <= room;
}"""


@VIEWPORTS
def test_a_long_dispatch_message_reads_as_a_paragraph_under_a_heading_of_its_own(
    signed_in, owner, viewport, screenshot
):
    long_message = ("Salamat po! Iniwan namin ang parcel sa guard house ng building. " * 12).strip()
    order = pending_order(owner)
    actions.dispatch_order(
        order.pk,
        by=owner,
        delivery_reference="JT0001",
        expected_on=today(owner) + datetime.timedelta(days=2),
        message=long_message + " " + "x" * 80,
    )
    page = signed_in(viewport)

    page.goto(f"/orders/{order.pk}/")

    heading = page.get_by_role("heading", name="Message to the customer")
    expect(heading).to_be_visible()
    card = page.locator(".card", has=heading)
    message = card.locator(".shipment-message p")
    expect(message).to_contain_text("guard house")
    heading_box, message_box, card_box = heading.bounding_box(), message.bounding_box(), card.bounding_box()
    # The heading is one line, and the message uses the card's width, not a narrow column.
    assert heading_box["height"] < 30
    assert message_box["width"] > 0.8 * card_box["width"]
    assert no_sideways_page_scroll(page)
    heading.scroll_into_view_if_needed()
    screenshot(page, "30-order-long-message")


@VIEWPORTS
def test_the_message_box_counts_characters_and_says_when_the_limit_is_reached(
    signed_in, owner, viewport, screenshot
):
    order = pending_order(owner)
    page = signed_in(viewport)
    page.goto(f"/orders/{order.pk}/dispatch/")
    message = page.get_by_label("Message to the customer (optional)")
    counter = page.locator("#id_message_count")

    expect(page.get_by_text(f"Up to {MAX_MESSAGE_LENGTH:,} characters")).to_be_visible()
    expect(counter).to_have_text(f"0 / {MAX_MESSAGE_LENGTH:,} characters")
    message.press_sequentially("Salamat po!")
    expect(counter).to_have_text(f"11 / {MAX_MESSAGE_LENGTH:,} characters")

    message.fill("a" * MAX_MESSAGE_LENGTH)
    expect(counter).to_have_text(
        f"{MAX_MESSAGE_LENGTH:,} / {MAX_MESSAGE_LENGTH:,} characters — that is the limit."
    )
    assert "at-limit" in counter.get_attribute("class")
    message.scroll_into_view_if_needed()
    screenshot(page, "31-dispatch-message-at-limit")


@VIEWPORTS
def test_a_pop_up_refused_because_someone_else_moved_the_order_closes_and_shows_the_order_as_it_is(
    signed_in, owner, viewport, screenshot
):
    order = dispatched_order(owner)
    page = signed_in(viewport)
    page.goto("/orders/?status=dispatched")
    page.wait_for_load_state()
    show_panel(page, order, "shipping")
    row_of(page, order).get_by_role("button", name="Mark as fulfilled").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()

    # Meanwhile, in another tab or on another phone:
    actions.cancel_order(order.pk, by=owner, reason="Customer refused the parcel")
    dialog.get_by_label("Remarks (optional)").fill("Delivered")
    dialog.get_by_role("button", name="OK").click()

    expect(page).to_have_url(re.compile(f"/orders/{order.pk}/$"))
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(
        page.get_by_text(f"Order {order.reference} was cancelled, so you cannot fulfill it.")
    ).to_be_visible()
    expect(page.locator(".order-header .badge-cancelled")).to_have_text("Cancelled")
    expect(page.get_by_role("button", name="Mark as fulfilled")).to_have_count(0)
    order.refresh_from_db()
    assert (order.status, order.fulfill_remarks) == (Order.Status.CANCELLED, "")
    screenshot(page, "32-stale-pop-up-refused")


@VIEWPORTS
def test_the_status_drop_down_and_the_search_box_show_their_whole_text(
    signed_in, owner, viewport, screenshot
):
    for _ in range(12):
        awaiting_order(owner)
    for _ in range(11):
        dispatched_order(owner)
    page = signed_in(viewport)

    page.goto("/orders/?status=awaiting_payment")
    page.wait_for_load_state()

    search = page.get_by_label("Search orders")
    assert page.evaluate(TEXT_FITS, [search.element_handle(), search.get_attribute("placeholder")])
    status = page.get_by_label("Status", exact=True)
    if viewport == PHONE:
        for option in status.locator("option").all_inner_texts():
            assert page.evaluate(TEXT_FITS, [status.element_handle(), option]), option
        expect(status.locator("option:checked")).to_have_text("Awaiting payment (12)")
    else:
        # Tabs instead of the drop-down.
        expect(
            page.get_by_role("navigation", name="Order status").get_by_role("link", name="Dispatched 11")
        ).to_be_visible()
    assert no_sideways_page_scroll(page)
    screenshot(page, "33-tracking-filters")


@VIEWPORTS
def test_due_dates_say_what_they_are_on_pending_late_and_cancelled_orders(
    signed_in, owner, viewport, screenshot
):
    on_time = pending_order(owner, processing_days=3)
    late = pending_order(owner, customer=CustomerDetails(name="Jose Reyes", phone="0918 777 1234"))
    Order.objects.filter(pk=late.pk).update(due_on=today(owner) - datetime.timedelta(days=2))
    late.refresh_from_db()
    cancelled = cancelled_order(owner)
    page = signed_in(viewport)

    page.goto("/orders/")
    show_panel(page, on_time, "shipping")
    expect(row_of(page, on_time).locator(".due")).to_have_text(
        re.compile(rf"Dispatch by\s*{on_time.due_on:%b %-d, %Y}\s*3 processing days")
    )
    show_panel(page, late, "shipping")
    expect(row_of(page, late).locator(".due")).to_have_text(
        re.compile(rf"Dispatch by\s*{late.due_on:%b %-d, %Y}\s*2 days late")
    )
    expect(row_of(page, late).locator(".badge-late")).to_have_text("Late")
    screenshot(page, "34-tracking-due-dates")

    page.goto("/orders/?status=cancelled")
    show_panel(page, cancelled, "shipping")
    expect(row_of(page, cancelled).locator(".due")).to_have_text(
        re.compile(rf"Cancelled\s*{today(owner):%b %-d, %Y}")
    )
    expect(row_of(page, cancelled)).not_to_contain_text("Dispatch by")
    screenshot(page, "35-tracking-cancelled-due")


@VIEWPORTS
def test_the_orders_awaiting_payment_have_one_name_everywhere(signed_in, owner, viewport, screenshot):
    for _ in range(3):
        awaiting_order(owner)
    pending_order(owner)
    page = signed_in(viewport)
    page.goto("/orders/")

    link = page.get_by_role("link", name="Awaiting payment 3")
    expect(link).to_be_visible()
    screenshot(page, "36-tracking-awaiting-payment-link")
    link.click()

    expect(page).to_have_url(re.compile("status=awaiting_payment"))
    expect(page.get_by_role("region", name="Awaiting payment orders")).to_be_visible()
    if viewport == PHONE:
        expect(page.get_by_label("Status", exact=True).locator("option:checked")).to_have_text(
            "Awaiting payment (3)"
        )
    expect(page.locator("body")).not_to_contain_text("Unpaid (")
    expect(page.locator("body")).not_to_contain_text("orders awaiting payment")
    screenshot(page, "37-tracking-awaiting-payment")


@VIEWPORTS
def test_rows_show_no_clipped_words_at_their_right_edge(signed_in, owner, viewport, screenshot):
    order = pending_order(owner)
    page = signed_in(viewport)
    page.goto("/orders/")
    row = row_of(page, order)
    panels = row.locator(".order-panels")

    edges = panels.evaluate(
        """(panels) => [...panels.children].map((panel) => {
             const box = panel.getBoundingClientRect(), row = panels.getBoundingClientRect();
             return {left: box.left, right: box.right, rowLeft: row.left, rowRight: row.right};
           })"""
    )
    if viewport == PHONE:
        # The first panel fills the row; the next begins past its edge, with nothing peeking in.
        assert edges[0]["right"] >= edges[0]["rowRight"] - 1
        assert edges[1]["left"] >= edges[1]["rowRight"] - 1
        expect(row.locator(".panel-main .swipe-dots")).to_be_visible()
        expect(row.locator(".panel-main .swipe-hint")).to_have_text("Swipe for items and shipping")
    else:
        for edge in edges:
            assert edge["left"] >= edge["rowLeft"] - 1 and edge["right"] <= edge["rowRight"] + 1
        expect(row.locator(".swipe-hint").first).to_be_hidden()
    screenshot(page, "38-tracking-rows")


@VIEWPORTS
def test_the_check_mark_says_what_it_does_and_the_status_sits_beside_the_reference(
    signed_in, owner, viewport, screenshot
):
    order = dispatched_order(owner)
    page = signed_in(viewport)
    page.goto("/orders/?status=dispatched")
    row = row_of(page, order)

    reference = row.get_by_role("link", name=order.reference)
    badge = row.locator(".row-head .badge-dispatched")
    assert (
        badge.bounding_box()["x"] - (reference.bounding_box()["x"] + reference.bounding_box()["width"]) < 20
    )
    show_panel(page, order, "shipping")
    check = row.get_by_role("button", name="Mark as fulfilled")
    expect(check).to_have_text("Mark as fulfilled")
    expect(check).to_be_in_viewport()
    screenshot(page, "39-tracking-check-mark")

    page.goto(f"/orders/{order.pk}/")
    title = page.get_by_role("heading", name=f"Order {order.reference}")
    header_badge = page.locator(".order-header .badge-dispatched")
    title_box, badge_box = title.bounding_box(), header_badge.bounding_box()
    beside = 0 <= badge_box["x"] - (title_box["x"] + title_box["width"]) < 24
    below = 0 <= badge_box["y"] - (title_box["y"] + title_box["height"]) < 16
    assert beside or below, (title_box, badge_box)
    expect(page.get_by_role("button", name="Mark as fulfilled")).to_have_text("Mark as fulfilled")
    screenshot(page, "40-order-check-mark")


@VIEWPORTS
def test_a_store_order_says_it_was_placed_by_its_customer_through_the_store(
    signed_in, owner, viewport, screenshot
):
    shop = Store.objects.create(merchant=owner.merchant, name="Luz Shopify", channel=Store.Channel.SHOPIFY)
    order = pending_order(owner, store_id=shop.pk, external_id="5001")
    page = signed_in(viewport)

    page.goto(f"/orders/{order.pk}/")

    placed = page.locator(".event-placed")
    expect(placed).to_contain_text("Order placed by Maria Santos through Luz Shopify")
    expect(placed).not_to_contain_text(str(owner.user))
    placed.scroll_into_view_if_needed()
    screenshot(page, "41-order-store-placed")


@VIEWPORTS
def test_a_file_refused_as_a_photo_is_no_longer_chosen_and_the_field_is_outlined(
    signed_in, owner, viewport, screenshot
):
    order = pending_order(owner)
    page = signed_in(viewport)
    page.goto(f"/orders/{order.pk}/dispatch/")
    page.wait_for_load_state()
    photos = page.get_by_label("Photos of the parcel")
    page.get_by_label("Delivery reference no.").fill("JT42")
    page.get_by_label("Expected delivery date").fill((today(owner) + datetime.timedelta(days=2)).isoformat())

    # Named like a photo: only the server can tell, and refuses it.
    photos.set_input_files(
        [{"name": "invoice.jpg", "mimeType": "image/jpeg", "buffer": b"%PDF-1.4 not a photo"}]
    )
    page.get_by_role("button", name="OK").click()
    expect(page.locator("#id_photos_error")).to_have_text(
        "“invoice.jpg” is not a photo we can read (use JPEG, PNG or WebP)."
    )
    photos = page.get_by_label("Photos of the parcel")
    expect(photos).to_have_attribute("aria-invalid", "true")
    assert photos.evaluate("(input) => input.files.length") == 0
    assert photos.evaluate("(input) => getComputedStyle(input).borderTopColor") == "rgb(220, 38, 38)"

    # A PDF by name and type: refused in the page before it is sent, outlined the same way.
    photos.set_input_files([{"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"}])
    expect(page.locator("#id_photos_error")).to_have_text(
        "“invoice.pdf” is not a photo we can read (use JPEG, PNG or WebP)."
    )
    expect(photos).to_have_attribute("aria-invalid", "true")
    photos.scroll_into_view_if_needed()
    screenshot(page, "42-dispatch-refused-photo")
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not Fulfillment.objects.filter(order=order).exists()


@VIEWPORTS
def test_the_sign_in_page_says_remember_me_in_sentence_case(visitor, viewport, screenshot):
    page = visitor(viewport)

    page.goto("/accounts/login/")

    expect(page.get_by_label("Remember me", exact=True)).to_be_visible()
    expect(page.get_by_text("Remember Me", exact=True)).to_have_count(0)
    screenshot(page, "43-sign-in-remember-me")


@VIEWPORTS
def test_a_rows_check_box_covers_none_of_its_text(signed_in, owner, viewport):
    order = pending_order(owner)
    page = signed_in(viewport)
    page.goto("/orders/")
    row = row_of(page, order)
    box = row.locator(".place-pick").bounding_box()
    assert box is not None
    # Every visible text of the row (the reference, its badge, the courier, the dates…) lies
    # clear of the check box.
    overlapping = row.evaluate(
        """(row, pick) => [...row.querySelectorAll('.order-panels dd, .order-panels dt, .row-head > *')]
             .filter((el) => el.offsetParent !== null)
             .map((el) => ({text: el.textContent.trim(), box: el.getBoundingClientRect()}))
             .filter(({box}) => box.width > 0 && box.left < pick.x + pick.width && box.right > pick.x
                                && box.top < pick.y + pick.height && box.bottom > pick.y)
             .map(({text}) => text)""",
        box,
    )
    assert overlapping == []
