"""A backfill is quiet but for one summary to the merchant; a store that refuses the credentials
tells the owner once, by email through the outbox, and clears when a sync succeeds again."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from orderdesk.notifications.actions import update_notification_preferences
from orderdesk.notifications.delivery import deliver_due_notifications
from orderdesk.notifications.models import Notification
from orderdesk.stores.models import Store, SyncRun
from orderdesk.stores.sync import sync_store

from .factories import shopify_store
from .peers import SHOPIFY_TOKEN, shopify_node

pytestmark = pytest.mark.django_db

RECENT = (timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _backfill(store, waits=None) -> SyncRun:
    return sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=(waits or []).append)


def test_a_backfill_sends_the_merchant_one_summary_and_no_message_per_order(owner, shopify_double):
    shopify_double.orders = [shopify_node(n, createdAt=RECENT, updatedAt=RECENT) for n in range(1, 43)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url, name="My Shop")

    _backfill(store)
    deliver_due_notifications()

    merchant = owner.merchant
    rows = Notification.objects.order_by("channel")
    assert [(r.channel, r.recipient, r.topic, r.status) for r in rows] == [
        ("email", merchant.notification_email, "store.backfilled", "sent"),
        ("sms", merchant.notification_phone, "store.backfilled", "sent"),
    ]
    email, sms = rows
    assert email.subject == "42 paid orders from My Shop are in Order Tracking."
    assert "http://testserver/orders/" in email.body or reverse("orders:tracking") in email.body
    assert sms.body.startswith(f"{merchant.short_name}: 42 paid orders from My Shop are in Order Tracking.")


def test_a_backfill_that_finds_nothing_new_sends_nothing(owner, shopify_double):
    shopify_double.orders = [shopify_node(1, createdAt=RECENT, updatedAt=RECENT)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    _backfill(store)
    Notification.objects.all().delete()

    again = _backfill(store)

    assert again.unchanged_count == 1
    assert not Notification.objects.exists()


def test_the_summary_goes_only_where_the_merchant_hears_of_paid_orders(owner, shopify_double):
    update_notification_preferences(by=owner, merchant_sms_on_payment=False)
    shopify_double.orders = [shopify_node(1, createdAt=RECENT, updatedAt=RECENT)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url, name="My Shop")

    _backfill(store)

    [row] = Notification.objects.all()
    assert (row.channel, row.subject) == ("email", "1 paid order from My Shop is in Order Tracking.")


def test_a_broken_connection_emails_the_owner_once_not_once_per_run_or_order(owner, shopify_double):
    shopify_double.orders = [shopify_node(n, createdAt=RECENT, updatedAt=RECENT) for n in range(1, 6)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url, token="shpat_revoked_0000")

    _backfill(store)
    sync_store(store.pk, kind=SyncRun.Kind.POLL)
    deliver_due_notifications()

    [told] = Notification.objects.filter(topic="store.connection_broken")
    assert (told.channel, told.recipient, told.status) == ("email", owner.user.email, "sent")
    assert told.subject == "Lakbay Shopify refused Orderdesk's credentials"
    assert "refused the credentials (HTTP 401)" in told.body
    assert f"/stores/{store.pk}/" in told.body


def test_a_successful_sync_clears_the_breakage_and_a_new_one_tells_the_owner_again(
    owner, owner_client, shopify_double
):
    store = shopify_store(owner, api_base_url=shopify_double.base_url, token="shpat_revoked_0000")
    _backfill(store)
    assert Store.objects.get().connection_state == Store.ConnectionState.BROKEN

    shopify_double.token = "shpat_revoked_0000"
    sync_store(store.pk, kind=SyncRun.Kind.BACKFILL)
    store.refresh_from_db()
    assert (store.connection_state, store.broken_since) == (Store.ConnectionState.OK, None)
    page = owner_client.get(reverse("stores:detail", args=[store.pk])).content.decode()
    assert "refused Orderdesk's credentials" not in page

    shopify_double.token = SHOPIFY_TOKEN
    sync_store(store.pk, kind=SyncRun.Kind.POLL)

    assert Notification.objects.filter(topic="store.connection_broken").count() == 2


def test_an_owner_testing_a_refused_connection_reads_it_on_the_page_and_gets_no_email(owner, shopify_double):
    from orderdesk.stores.actions import check_store_connection
    from orderdesk.stores.errors import ConnectionRefused

    store = shopify_store(owner, api_base_url=shopify_double.base_url, token="shpat_revoked_0000")

    with pytest.raises(ConnectionRefused):
        check_store_connection(store.pk, by=owner)

    assert Store.objects.get().connection_state == Store.ConnectionState.BROKEN
    assert not Notification.objects.filter(topic="store.connection_broken").exists()
