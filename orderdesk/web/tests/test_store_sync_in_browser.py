"""Connecting a store and importing a CSV, walked in Chromium at phone and desktop sizes."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.background import background_jobs
from orderdesk.orders.models import Order
from orderdesk.stores import actions as store_actions
from orderdesk.stores import csv_import, shopify, sync
from orderdesk.stores.actions import StoreDetails
from orderdesk.stores.tests.peers import SHOPIFY_TOKEN, ShopifyDouble, shopify_node
from orderdesk.web.tests.conftest import DESKTOP, PHONE
from orderdesk.web.tests.test_merchant_guide_in_browser import no_sideways_page_scroll, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def shopify_double(monkeypatch):
    # Pages and batches of 50 (as the stores tests have them), so 120 orders take three pages
    # and the store page can show the backfill between them.
    monkeypatch.setattr(shopify, "ORDERS_PAGE", 50)
    monkeypatch.setattr(shopify, "ORDER_LINES_PAGE", 2)
    monkeypatch.setattr(sync, "BATCH_ORDERS", 50)
    recent = (timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    double = ShopifyDouble(
        [shopify_node(n, createdAt=recent, updatedAt=recent) for n in range(4001, 4121)]
    ).start()
    # The check and the first page answer at once; the next two pages take a while, so the
    # store page shows the backfill under way.
    double.script("answered at once")
    double.script("answered at once")
    double.stall_next(4)
    double.stall_next(2)
    yield double
    double.stop()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_the_owner_connects_a_shopify_store_and_its_paid_orders_appear_in_order_tracking(
    chromium, live_server, transactional_db, shopify_double, screenshot, viewport, settings, request
):
    # The backfill runs beside the request, as without Celery in production.
    settings.STORE_BACKGROUND_THREAD = True
    settings.STORE_API_TIMEOUT_SECONDS = 10
    request.addfinalizer(lambda: background_jobs.wait_until_idle(timeout=60))
    actor = owner_actor()
    context = chromium.new_context(viewport=viewport, base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/account/")
    sign_in(page, actor.user.email)
    page.get_by_role("link", name="Connect a store").click()
    page.get_by_label("Channel").select_option("shopify")
    page.get_by_label("Store name").fill("Lakbay Shopify")
    page.get_by_label("Shop domain or site address").fill("lakbay.myshopify.com")
    page.get_by_label("Admin API access token (Shopify)").fill(SHOPIFY_TOKEN)
    page.get_by_label("Webhook signing secret").fill("app-secret")
    page.get_by_text("Advanced", exact=True).click()
    page.get_by_label("API address (leave empty)").fill(shopify_double.base_url)
    assert no_sideways_page_scroll(page)
    screenshot(page, "30-connect-store")
    page.get_by_role("button", name="Connect store").click()
    expect(page.get_by_role("heading", name="Lakbay Shopify")).to_be_visible()
    expect(page.get_by_text("Connected to Lakbay Crafts (PHP).")).to_be_visible()
    expect(page.get_by_text("running: 50 of 120 orders so far")).to_be_visible()
    expect(page.get_by_role("progressbar", name="Backfill progress")).to_be_visible()
    assert no_sideways_page_scroll(page)
    screenshot(page, "31-store-backfill-running")
    expect(page.get_by_text("120 new, 0 updated, 0 unchanged, 0 failed")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("progressbar")).to_have_count(0)
    expect(page.get_by_text("/webhooks/shopify/")).to_be_visible()
    assert no_sideways_page_scroll(page)
    screenshot(page, "31-store-backfilled")
    page.goto("/orders/")
    for order in Order.objects.filter(external_id__in=["4118", "4119", "4120"]):
        expect(page.locator(f"#order-{order.pk}")).to_be_visible()
    assert no_sideways_page_scroll(page)
    screenshot(page, "31-store-orders-in-order-tracking")
    context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_a_csv_preview_shows_the_error_row_and_imports_the_rest_on_confirm(
    chromium, live_server, transactional_db, screenshot, viewport, tmp_path
):
    actor = owner_actor()
    store = store_actions.add_store(StoreDetails(channel="csv", name="Bazaar sheet"), by=actor)
    lines = csv_import.template_csv().splitlines()
    bad = lines[1].replace("1001", "1002").replace(",2,799.00", ",lots,799.00")
    file = tmp_path / "orders.csv"
    file.write_text("\n".join([lines[0], lines[1], bad]) + "\n")
    context = chromium.new_context(viewport=viewport, base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"/stores/{store.pk}/")
    sign_in(page, actor.user.email)
    page.get_by_label("Orders file (CSV)").set_input_files(str(file))
    page.get_by_role("button", name="Preview").click()
    expect(
        page.get_by_text("Order 1002: The quantity of Linen shirt “lots” is not a number.")
    ).to_be_visible()
    assert not Order.objects.exists()
    assert no_sideways_page_scroll(page)
    screenshot(page, "32-csv-preview")
    page.get_by_role("button", name="Import 1 order").click()
    expect(page.get_by_text("Imported: 1 new, 0 updated, 0 unchanged, 1 failed.")).to_be_visible()
    assert Order.objects.get().external_id == "1001"
    context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_a_store_change_after_dispatch_and_a_failed_tracking_push_show_on_the_order_page(
    chromium, live_server, transactional_db, screenshot, viewport
):
    from orderdesk.notifications.delivery import deliver_due_notifications
    from orderdesk.orders import actions as order_actions
    from orderdesk.stores.shopify import order_from_webhook
    from orderdesk.stores.sync import apply_incoming_order
    from orderdesk.stores.tests.peers import shopify_webhook_order

    actor = owner_actor()
    double = ShopifyDouble([shopify_node(4201)], token="shpat_revoked_token").start()
    try:
        store = store_actions.add_store(
            StoreDetails(
                channel="shopify",
                name="Lakbay Shopify",
                url="lakbay.myshopify.com",
                api_base_url=double.base_url,
                access_token=SHOPIFY_TOKEN,
                webhook_secret="app-secret",
            ),
            by=actor,
        )
        apply_incoming_order(store, order_from_webhook(shopify_webhook_order(4201)), notify=False)
        order = Order.objects.get(external_id="4201")
        order_actions.dispatch_order(
            order.pk,
            by=actor,
            delivery_reference="JT-4201",
            expected_on=timezone.localdate(timezone=actor.merchant.zone) + datetime.timedelta(days=2),
        )
        deliver_due_notifications()
        cancelled = shopify_webhook_order(4201, cancelled_at="2026-11-21T10:00:00+08:00")
        apply_incoming_order(store, order_from_webhook(cancelled))
    finally:
        double.stop()
    context = chromium.new_context(viewport=viewport, base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"/orders/{order.pk}/")
    sign_in(page, actor.user.email)
    banner = page.get_by_role("alert").filter(has_text="Store change needs your attention")
    expect(banner).to_contain_text("Lakbay Shopify cancelled this order after it was dispatched.")
    failed = page.locator(".notification-failed").filter(has_text="Tracking sent to the store")
    expect(failed).to_contain_text("refused the credentials (HTTP 401)")
    expect(failed.get_by_role("button", name="Resend")).to_be_visible()
    assert no_sideways_page_scroll(page)
    screenshot(page, "33-order-store-change-and-failed-tracking")
    page.goto("/orders/?status=dispatched")
    expect(page.locator(f"#order-{order.pk}").get_by_text("Store change")).to_be_visible()
    page.goto(f"/orders/{order.pk}/")
    banner.get_by_role("button", name="Dismiss").click()
    expect(page.get_by_text("The store's change to order")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="Store change needs your attention")).to_have_count(0)
    context.close()
