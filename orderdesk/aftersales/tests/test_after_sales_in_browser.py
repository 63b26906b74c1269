"""The guide's four steps of Confirm After Sales, and a vendor's answer, in Chromium at 375 and
1280 px, with a screenshot of each screen in artifacts/screenshots/."""

import io

import pytest
from django.conf import settings
from django.test import Client
from PIL import Image
from playwright.sync_api import expect

from orderdesk.aftersales.models import AfterSalesCase
from orderdesk.web.tests.conftest import DESKTOP, PHONE

from .factories import shipped_order

pytestmark = pytest.mark.browser

VIEWPORTS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])


@pytest.fixture
def as_person(visitor, live_server):
    """as_person(actor, viewport): a page whose browser holds the actor's session."""

    def open_page(actor, viewport):
        client = Client()
        client.force_login(actor.user)
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
        return page

    return open_page


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def parcel_photo(tmp_path):
    path = tmp_path / "torn-shirt.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (180, 60, 60)).save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue())
    return path


@VIEWPORTS
def test_confirm_after_sales_in_four_steps_then_the_vendor_answers(as_person, viewport, screenshot, tmp_path):
    shipped = shipped_order()
    width = viewport["width"]
    merchant = as_person(shipped.owner, viewport)

    merchant.goto(f"/orders/{shipped.order.pk}/")
    button = merchant.get_by_role("link", name="Confirm After Sales")
    heading = merchant.get_by_role("heading", name=f"Order {shipped.order.reference}")
    button_box, heading_box = button.bounding_box(), heading.bounding_box()
    if width >= 768:
        # Top right of the order, level with its title.
        assert button_box["x"] > width / 2 and abs(button_box["y"] - heading_box["y"]) < 30
    else:
        # Among the order's actions, under its title, the width of the page.
        assert button_box["y"] > heading_box["y"] + heading_box["height"]
        assert button_box["width"] > width * 0.8
    screenshot(merchant, "after-sales-order-page")
    button.click()

    # Step 1: the type.
    expect(merchant.locator('[aria-current="step"]')).to_contain_text("Type")
    merchant.get_by_label("Product broken").check()
    screenshot(merchant, "after-sales-step-1-type")
    merchant.get_by_role("button", name="Next").click()
    # Step 2: the mode.
    expect(merchant.locator('[aria-current="step"]')).to_contain_text("Mode")
    merchant.get_by_label("Resend").check()
    screenshot(merchant, "after-sales-step-2-mode")
    merchant.get_by_role("button", name="Next").click()
    # Step 3: the products, only what was shipped.
    expect(merchant.locator('[aria-current="step"]')).to_contain_text("Products")
    shirt = merchant.get_by_label("Linen shirt")
    expect(shirt).to_have_attribute("max", "2")
    shirt.fill("1")
    screenshot(merchant, "after-sales-step-3-products")
    merchant.get_by_role("button", name="Next").click()
    # Step 4: words and photos; Submit at the top right. A refusal keeps what was chosen.
    expect(merchant.locator('[aria-current="step"]')).to_contain_text("Words and photos")
    merchant.get_by_label("Photos").set_input_files(parcel_photo(tmp_path))
    merchant.get_by_role("button", name="Submit").click()
    expect(merchant.get_by_role("alert")).to_contain_text("Say what happened")
    expect(merchant.locator(".chosen")).to_contain_text("Product broken · Resend · 1 × Linen shirt")
    screenshot(merchant, "after-sales-step-4-refused")
    merchant.get_by_label("What happened").fill("The collar of one shirt arrived torn; photo attached.")
    if not merchant.get_by_label("Photos").evaluate("input => input.files.length"):
        merchant.get_by_label("Photos").set_input_files(parcel_photo(tmp_path))
    merchant.get_by_role("button", name="Submit").click()

    expect(merchant.get_by_role("heading", name="Case #")).to_be_visible()
    case = AfterSalesCase.objects.get()
    assert case.vendor_id == shipped.vendor.pk and case.photos.count() == 1
    expect(merchant.locator(".case-status")).to_have_text("Open")
    assert no_sideways_scroll(merchant)
    screenshot(merchant, "after-sales-case-merchant")

    # The vendor finds it among its open cases and answers.
    vendor = as_person(shipped.vendor_user, viewport)
    vendor.goto("/aftersales/")
    expect(vendor.get_by_text("1 open case")).to_be_visible()
    screenshot(vendor, "after-sales-vendor-list")
    vendor.get_by_role("link", name=f"Case #{case.pk}").click()
    expect(vendor.get_by_text("Customer paid")).to_have_count(0)
    vendor.get_by_role("textbox", name="Message").fill("Sorry about that. We will send a new one today.")
    vendor.get_by_role("button", name="Send message").click()
    expect(vendor.locator(".thread-message")).to_contain_text("We will send a new one today")
    vendor.get_by_label("What the resend costs the shop").fill("80")
    vendor.get_by_role("button", name="Accept and resend").click()
    expect(vendor.locator(".case-status")).to_have_text("Accepted")
    vendor.get_by_label("Courier").fill("LBC")
    vendor.get_by_label("Delivery reference no.").fill("LBC-RESEND-1")
    vendor.get_by_role("button", name="Handed to the courier").click()
    expect(vendor.get_by_text("The resend is on its way.")).to_be_visible()
    assert no_sideways_scroll(vendor)
    screenshot(vendor, "after-sales-case-vendor")

    # The merchant sees the answer, the resend's tracking, and resolves it, telling the customer.
    merchant.reload()
    expect(merchant.locator(".thread-message.from-vendor")).to_contain_text("We will send a new one today")
    expect(merchant.get_by_text("LBC-RESEND-1")).to_be_visible()
    merchant.get_by_label("Tell the customer (SMS and email)").check()
    merchant.get_by_role("button", name="Mark resolved").click()
    expect(merchant.locator(".case-status")).to_have_text("Resolved")
    screenshot(merchant, "after-sales-case-resolved")
    # Every step is on the order's timeline; the order lists its case.
    merchant.get_by_role("link", name=f"Order {shipped.order.reference}").click()
    timeline = merchant.locator(".timeline")
    for step in (
        "After-sales case opened",
        "After-sales message",
        "After-sales case accepted",
        "After-sales case resolved",
    ):
        expect(timeline).to_contain_text(step)
    expect(merchant.locator(".after-sales-card")).to_contain_text("Resolved")
    expect(merchant.get_by_role("heading", name="after-sales resend")).to_be_visible()
    screenshot(merchant, "after-sales-order-timeline")
    # The resend's cost counts against the margin in the Items card.
    expect(merchant.locator(".order-resend-cost")).to_contain_text("−80.00")
    merchant.locator(".order-margin").scroll_into_view_if_needed()
    screenshot(merchant, "after-sales-order-margin")

    # The customer's page shows the resend with its tracking.
    customer = as_person(shipped.owner, viewport)
    customer.goto(f"/t/{shipped.order.customer_page_token}/")
    expect(customer.get_by_text("LBC-RESEND-1")).to_be_visible()
    screenshot(customer, "after-sales-customer-page")
