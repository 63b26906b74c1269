"""Opening a shop by sign-up, and a person with two shops switching between them from the menu."""

import re

import pytest
from playwright.sync_api import expect

from orderdesk.accounts.models import Membership
from orderdesk.accounts.tests.factories import MembershipFactory, MerchantFactory, UserFactory, owner_actor
from orderdesk.orders.tests.factories import pending_order

from .conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"


def no_sideways_page_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def open_menu_if_phone(page):
    if page.viewport_size["width"] < 768:
        page.get_by_role("button", name="Menu").click()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_a_person_with_two_shops_switches_from_the_menu_and_sees_each_shops_orders(
    visitor, viewport, screenshot
):
    ana = UserFactory(email="ana@shop.example")
    alpha = MembershipFactory(
        user=ana, merchant=MerchantFactory(name="Alpha Shop"), role=Membership.Role.OWNER
    )
    beta = MembershipFactory(user=ana, merchant=MerchantFactory(name="Beta Shop"), role=Membership.Role.STAFF)
    pending_order(owner_actor(alpha.merchant), reference="ALPHA-1")
    pending_order(owner_actor(beta.merchant), reference="BETA-1")
    page = visitor(viewport)

    page.goto("/orders/?status=pending")
    page.get_by_label("Email").fill(ana.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("link", name="ALPHA-1")).to_be_visible()
    expect(page.get_by_text("BETA-1")).to_have_count(0)

    page.wait_for_load_state()  # the page's scripts have run
    open_menu_if_phone(page)
    switch = page.get_by_label("Acting for")
    expect(switch).to_be_visible()
    assert no_sideways_page_scroll(page)
    screenshot(page, "acting-for-menu")
    switch.select_option(label="Beta Shop · Staff")

    expect(page.get_by_text("You are now acting for Beta Shop.")).to_be_visible()
    page.goto("/orders/?status=pending")
    expect(page.get_by_role("link", name="BETA-1")).to_be_visible()
    expect(page.get_by_text("ALPHA-1")).to_have_count(0)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_a_newcomer_opens_a_shop_and_lands_on_an_empty_order_tracking(
    visitor, viewport, settings, screenshot
):
    settings.SIGNUP_OPEN = True
    page = visitor(viewport)

    page.goto("/accounts/login/")
    page.get_by_role("link", name="Open a shop").click()
    page.get_by_label("Shop name").fill("Lakbay Crafts")
    page.get_by_label("Your name").fill("Rosa Dizon")
    page.get_by_label("Email").fill("rosa@lakbay.example")
    page.get_by_label("Password").fill("a long owner passphrase")
    screenshot(page, "sign-up")
    page.get_by_role("button", name="Open the shop").click()

    expect(page).to_have_url(re.compile("/orders/$"))
    expect(page.get_by_text("No orders yet.")).to_be_visible()
    expect(page.locator(".brand-shop")).to_have_text("Lakbay Crafts")
    assert no_sideways_page_scroll(page)
    screenshot(page, "new-shop-order-tracking")
