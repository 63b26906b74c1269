"""The Reports page in a real browser at 375 and 1280 px: charts drawn under the Content-Security-Policy
(any console error fails the test), every chart's table there, no sideways scroll on a phone."""

import random
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from orderdesk.accounts.models import Membership
from orderdesk.accounts.tests.factories import MembershipFactory, MerchantFactory
from orderdesk.orders.models import Order
from orderdesk.reports.rollups import refresh_order_figures
from orderdesk.web.tests.conftest import DESKTOP, PHONE

from .shop_data import OrderSpec, ShipmentSpec, write_shop

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"


def a_months_orders(seed: int = 13) -> list[OrderSpec]:
    pick = random.Random(seed)
    specs = []
    for number in range(160):
        status = pick.choices(Order.Status.values, weights=[3, 10, 12, 60, 5])[0]
        specs.append(
            OrderSpec(
                store=number % 2,
                day=pick.randrange(0, 35),
                minute=pick.randrange(0, 1440),
                status=status,
                processing_days=pick.choice([1, 2, 3]),
                line_prices=tuple(Decimal(pick.randrange(200, 3000)) for _ in range(pick.randint(1, 3))),
                quantities=(pick.randint(1, 3), 1, 2),
                shipment=ShipmentSpec(
                    vendor=pick.choice([None, 0, 1, 1]),
                    status={
                        "pending": "processing",
                        "dispatched": "in_transit",
                        "fulfilled": "delivered",
                    }.get(status, "exception"),
                    hours_to_ship=pick.randrange(2, 24 * 4),
                    hours_to_deliver=pick.randrange(24, 24 * 5),
                    had_exception=pick.random() < 0.08,
                    unit_cost=Decimal(pick.randrange(80, 900)),
                    shipping_cost=Decimal(pick.choice([0, 45, 90])),
                )
                if status != "awaiting_payment"
                else None,
            )
        )
    return specs


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_the_report_draws_its_charts_with_their_tables_at_phone_and_desktop_width(
    visitor, viewport, screenshot
):
    merchant = MerchantFactory(name="Lakbay Crafts")
    membership = MembershipFactory(merchant=merchant, role=Membership.Role.STAFF)
    write_shop(merchant, a_months_orders(), now=timezone.now())
    refresh_order_figures(merchant)
    page = visitor(viewport)

    page.goto("/reports/?starts_on=2026-03-01&ends_on=2026-04-04&grain=week")
    page.get_by_label("Email").fill(membership.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()

    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Vendor scorecard")).to_be_visible()
    expect(page.get_by_role("rowheader", name="Vendor 1 (2 d)")).to_be_visible()
    page.wait_for_load_state("load")
    # Chart.js drew every canvas (a drawn canvas has a chart attached to it).
    drawn = page.evaluate(
        "Array.from(document.querySelectorAll('canvas[data-chart]')).map(c => !!window.Chart.getChart(c))"
    )
    assert drawn and all(drawn), drawn
    screenshot(page, "reports")
    # Wide tables scroll inside their own box; the page never scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")

    page.get_by_label("By", exact=True).select_option("Month")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("rowheader", name="Mar 2026").first).to_be_visible()
    screenshot(page, "reports-by-month")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_order_tracking_offers_its_export_menu_at_phone_and_desktop_width(visitor, viewport, screenshot):
    merchant = MerchantFactory(name="Lakbay Crafts")
    membership = MembershipFactory(merchant=merchant, role=Membership.Role.OWNER)
    write_shop(merchant, a_months_orders()[:12], now=timezone.now())
    page = visitor(viewport)

    page.goto("/orders/?status=pending")
    page.get_by_label("Email").fill(membership.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text("Export these orders").click()

    lines_csv = (
        page.get_by_role("list", name="Export the orders shown").get_by_role("link", name="CSV").nth(1)
    )
    expect(lines_csv).to_be_visible()
    assert "kind=lines" in lines_csv.get_attribute("href")
    assert "status=pending" in lines_csv.get_attribute("href")
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    screenshot(page, "order-tracking-export")
