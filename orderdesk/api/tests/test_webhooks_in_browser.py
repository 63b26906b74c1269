"""The owner adds a webhook endpoint, copies its secret, reads the delivery log and redelivers,
in Chromium at phone and desktop sizes."""

import pytest
from playwright.sync_api import expect

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.notifications.delivery import deliver_due_notifications
from orderdesk.orders.tests.factories import pending_order
from orderdesk.web.tests.test_merchant_guide_in_browser import no_sideways_page_scroll, sign_in

from .webhook_receiver import WebhookReceiver, verify_standard_webhook

pytestmark = pytest.mark.browser


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    running = WebhookReceiver().start()
    yield running
    running.stop()


@pytest.mark.parametrize("page_fixture", ["phone", "desktop"])
def test_the_owner_adds_an_endpoint_and_redelivers_from_its_log(
    request,
    live_server,
    transactional_db,
    page_fixture,
    receiver,
    screenshot,  # noqa: F811
):
    page = request.getfixturevalue(page_fixture)
    owner = owner_actor()
    page.goto("/account/")
    sign_in(page, owner.user.email)
    page.get_by_label("Endpoint URL").fill(receiver.url)
    page.get_by_label("Description").fill("Chatbot")
    page.get_by_label("order.created").check()
    page.get_by_label("order.paid").check()
    assert no_sideways_page_scroll(page)
    screenshot(page, "60-webhook-endpoint-form")
    page.get_by_role("button", name="Add endpoint").click()

    secret = page.get_by_role("textbox", name="Signing secret").input_value()
    assert secret.startswith("whsec_")
    screenshot(page, "61-webhook-secret-once")
    pending_order(owner)
    deliver_due_notifications()
    page.get_by_role("link", name="Done").click()

    expect(page.get_by_text("HTTP 200").first).to_be_visible()
    page.get_by_role("button", name="Redeliver order.paid").click()
    expect(page.get_by_text("order.paid is on its way again.")).to_be_visible()
    deliver_due_notifications()
    page.reload()
    expect(page.get_by_text("redelivery")).to_be_visible()
    assert no_sideways_page_scroll(page)
    screenshot(page, "62-webhook-delivery-log")
    assert [d.event["type"] for d in receiver.deliveries] == ["order.created", "order.paid", "order.paid"]
    for delivery in receiver.deliveries:
        verify_standard_webhook(secret, delivery.headers, delivery.body)
