"""Without Celery, a webhook is answered as soon as its delivery is stored, and a sync asked for
on a page runs beside the request: both in threads of the web process, after commit. Without
Celery beat, `stores poll` (run every minute by `make run`'s loop or cron) polls the stores due."""

import datetime
import json
import threading

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.background import STORE_WEBHOOKS, background_jobs
from orderdesk.orders.models import Order
from orderdesk.stores.models import InboundDelivery, Store, SyncRun
from orderdesk.stores.sync import start_sync
from orderdesk.stores.webhooks import signature_of

from .factories import SHOPIFY_SECRET, shopify_store
from .peers import shopify_node, shopify_webhook_order

RECENT = (timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def in_threads(settings):
    settings.STORE_BACKGROUND_THREAD = True
    yield
    assert background_jobs.wait_until_idle(timeout=40)


@pytest.mark.django_db(transaction=True)
def test_a_webhook_is_answered_before_its_order_is_taken_in(in_threads):
    store = shopify_store(owner_actor())
    raw = json.dumps(shopify_webhook_order(1001)).encode()
    # The thread is busy (a slow database, say) until released.
    release = threading.Event()
    background_jobs.submit(STORE_WEBHOOKS, lambda: release.wait(10))
    try:
        answer = Client().post(
            reverse("stores:shopify_webhook", args=[store.webhook_token]),
            raw,
            content_type="application/json",
            HTTP_X_SHOPIFY_HMAC_SHA256=signature_of(raw, SHOPIFY_SECRET),
            HTTP_X_SHOPIFY_TOPIC="orders/paid",
            HTTP_X_SHOPIFY_WEBHOOK_ID="wh-1",
        )
        assert (answer.status_code, answer.json()) == (200, {"status": "accepted"})
        assert InboundDelivery.objects.get().outcome == InboundDelivery.Outcome.RECEIVED
        assert not Order.objects.exists()
    finally:
        release.set()
    assert background_jobs.wait_until_idle(timeout=20)
    assert InboundDelivery.objects.get().outcome == InboundDelivery.Outcome.PROCESSED
    assert Order.objects.get().external_id == "1001"


@pytest.mark.django_db(transaction=True)
def test_a_backfill_asked_for_runs_in_the_background_after_commit(in_threads, shopify_double):
    shopify_double.orders = [shopify_node(n, createdAt=RECENT, updatedAt=RECENT) for n in (1, 2, 3)]
    store = shopify_store(owner_actor(), api_base_url=shopify_double.base_url)
    with transaction.atomic():
        start_sync(store.pk, kind=SyncRun.Kind.BACKFILL)
        assert not SyncRun.objects.exists()

    assert background_jobs.wait_until_idle(timeout=20)
    run = SyncRun.objects.get()
    assert (run.kind, run.outcome, run.new_count) == ("backfill", "done", 3)


@pytest.mark.django_db
def test_stores_poll_polls_only_the_stores_not_synced_for_store_poll_minutes(owner, shopify_double, settings):
    settings.STORE_POLL_MINUTES = 5
    shopify_double.orders = [shopify_node(1, createdAt=RECENT, updatedAt=RECENT)]
    fresh = shopify_store(owner, api_base_url=shopify_double.base_url, name="Fresh")
    stale = shopify_store(owner, api_base_url=shopify_double.base_url, name="Stale")
    never = shopify_store(owner, api_base_url=shopify_double.base_url, name="Never")
    demo = shopify_store(owner, api_base_url=shopify_double.base_url, name="Demo")
    Store.objects.filter(pk=demo.pk).update(credentials_encrypted="")
    now = timezone.now()
    Store.objects.filter(pk=fresh.pk).update(last_synced_at=now - datetime.timedelta(minutes=2))
    Store.objects.filter(pk=stale.pk).update(last_synced_at=now - datetime.timedelta(minutes=6))

    call_command("stores", "poll")

    assert set(SyncRun.objects.values_list("store__name", flat=True)) == {"Stale", "Never"}
    assert never.pk in set(Order.objects.values_list("store_id", flat=True))
