"""Backfill and poll against loopback doubles of the Shopify GraphQL and WooCommerce REST APIs."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from orderdesk.notifications.models import Notification
from orderdesk.notifications.queries import notifications_about
from orderdesk.orders import actions as order_actions
from orderdesk.orders.models import Order
from orderdesk.stores import shopify as shopify_module
from orderdesk.stores import sync
from orderdesk.stores.errors import SyncRefused
from orderdesk.stores.models import Store, SyncRun
from orderdesk.stores.sync import prune_sync_log, sync_store

from .factories import shopify_store, woo_store
from .peers import shopify_node, woo_order

pytestmark = pytest.mark.django_db

RECENT = (timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _recent_node(number, **overrides):
    return shopify_node(number, createdAt=RECENT, updatedAt=RECENT, **overrides)


@pytest.fixture
def waits():
    return []


def test_a_shopify_backfill_takes_in_every_page_of_paid_orders_quietly(owner, shopify_double, waits):
    shopify_double.orders = [_recent_node(n) for n in range(1, 121)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    seen = []
    run = sync_store(
        store.pk, kind=SyncRun.Kind.BACKFILL, progress=lambda r: seen.append(r.seen_count), sleep=waits.append
    )
    assert (run.outcome, run.new_count, run.failed_count) == ("done", 120, 0)
    assert seen == [50, 100, 120]
    assert Order.objects.filter(store=store, status=Order.Status.PENDING).count() == 120
    # No message per order: the backfill's one summary (test_backfill_summary.py) is all.
    assert set(Notification.objects.values_list("topic", flat=True)) == {"store.backfilled"}
    queries = shopify_double.queries()
    assert [q["variables"]["after"] is None for q in queries] == [True, False, False]
    assert queries[0]["variables"]["query"].startswith(
        "financial_status:paid fulfillment_status:unfulfilled created_at:>="
    )
    assert shopify_double.requests[0].path == "/admin/api/2025-01/graphql.json"
    store.refresh_from_db()
    assert store.connection_state == Store.ConnectionState.OK
    assert store.last_synced_at is not None


def test_a_second_backfill_creates_nothing(owner, shopify_double, waits):
    shopify_double.orders = [_recent_node(n) for n in range(1, 6)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    again = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert (again.new_count, again.unchanged_count) == (0, 5)
    assert Order.objects.count() == 5


def test_the_poll_asks_for_orders_changed_since_the_cursor_and_notifies_live_orders(
    owner, shopify_double, waits
):
    shopify_double.orders = [_recent_node(1)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    later = (timezone.now() + datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    shopify_double.orders.append(shopify_node(2, createdAt=later, updatedAt=later))
    shopify_double.orders.append(shopify_node(1, createdAt=RECENT, updatedAt=later, cancelledAt=later))
    run = sync_store(store.pk, kind=SyncRun.Kind.POLL, sleep=waits.append)
    assert (run.new_count, run.updated_count) == (1, 1)
    assert "updated_at:>=" in shopify_double.queries()[-1]["variables"]["query"]
    assert Order.objects.get(external_id="1").status == Order.Status.CANCELLED
    assert notifications_about(owner.merchant, "order", Order.objects.get(external_id="2").pk).count() == 2


def test_shopify_throttling_is_waited_out(owner, shopify_double, waits):
    shopify_double.orders = [_recent_node(1)]
    shopify_double.throttle_next()
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert run.new_count == 1
    # The page's 854 points asked (50 orders of 2 lines) with none left, restored at 100 a second.
    assert waits == [8.54]


def test_a_nearly_empty_cost_bucket_makes_the_next_query_wait(owner, shopify_double, waits):
    shopify_double.orders = [_recent_node(1)]
    shopify_double.currently_available = 2.0
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    # 854 points asked, 2 left, restored at 100 a second.
    assert waits == [8.52]


def test_a_429_is_retried_after_the_time_the_store_asks(owner, shopify_double, waits):
    shopify_double.orders = [_recent_node(1)]
    shopify_double.fail_next(429, {"errors": "Throttled"}, {"Retry-After": "2.0"})
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert run.new_count == 1
    assert waits == [2.0]


def test_a_backfill_takes_several_pages_in_one_batch(owner, shopify_double, waits, monkeypatch):
    monkeypatch.setattr(sync, "BATCH_ORDERS", 100)
    shopify_double.orders = [_recent_node(n) for n in range(1, 121)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    batches = []
    record_orders = order_actions.record_orders
    monkeypatch.setattr(
        order_actions,
        "record_orders",
        lambda batch, **kw: batches.append(len(batch)) or record_orders(batch, **kw),
    )
    seen = []
    run = sync_store(
        store.pk, kind=SyncRun.Kind.BACKFILL, progress=lambda r: seen.append(r.seen_count), sleep=waits.append
    )
    assert (run.outcome, run.new_count, run.failed_count) == ("done", 120, 0)
    # Three pages of 50, 50 and 20: the first two recorded together, progress after each batch.
    assert len(shopify_double.queries()) == 3
    assert batches == [100, 20]
    assert seen == [100, 120]
    assert Order.objects.filter(store=store, status=Order.Status.PENDING).count() == 120


def test_a_passing_500_is_retried(owner, shopify_double, waits):
    shopify_double.orders = [_recent_node(1)]
    shopify_double.fail_next(500, {"errors": "Internal Server Error"})
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    assert sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append).new_count == 1


def test_a_store_that_keeps_failing_ends_the_run_with_the_reason(owner, shopify_double, waits):
    for _ in range(3):
        shopify_double.fail_next(502, {"errors": "Bad Gateway"})
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert run.outcome == SyncRun.Outcome.FAILED
    assert run.error == "Lakbay Shopify answered HTTP 502 3 times."
    store.refresh_from_db()
    assert store.last_sync_error == run.error
    assert store.sync_cursor == ""


def test_a_store_that_does_not_answer_in_time_fails_the_run(owner, shopify_double, waits):
    shopify_double.stall_next(2)
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert run.error == "Lakbay Shopify did not answer within 1 seconds."
    assert not Order.objects.exists()


def test_a_malformed_order_among_good_ones_is_logged_with_its_reason_and_the_rest_go_in(
    owner, shopify_double, waits
):
    bad_quantity = _recent_node(2)
    bad_quantity["lineItems"]["nodes"][0]["quantity"] = 2**31
    shopify_double.orders = [
        _recent_node(1),
        "not an order",
        bad_quantity,
        _recent_node(3, currencyCode="USD"),
        _recent_node(4),
    ]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert (run.outcome, run.new_count, run.failed_count) == ("done", 2, 3)
    assert run.failures == [
        {"external_id": "?", "reason": "The order is not an object."},
        {
            "external_id": "2",
            "reason": "Item 1 (Linen shirt) has a quantity of 2,147,483,648; at most 100,000 of one item per order.",
        },
        {"external_id": "3", "reason": "The order is in USD, but the shop keeps its books in PHP."},
    ]
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["1", "4"]


def test_an_expired_token_marks_the_store_broken_once_and_shows_it_on_the_store_page(
    owner, owner_client, shopify_double, waits
):
    store = shopify_store(owner, api_base_url=shopify_double.base_url, token="shpat_expired_0000")
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert run.outcome == SyncRun.Outcome.FAILED
    store.refresh_from_db()
    first_broken = store.broken_since
    assert store.connection_state == Store.ConnectionState.BROKEN
    sync_store(store.pk, kind=SyncRun.Kind.POLL, sleep=waits.append)
    store.refresh_from_db()
    assert store.broken_since == first_broken
    page = owner_client.get(reverse("stores:detail", args=[store.pk])).content.decode()
    assert "refused Orderdesk's credentials" in page
    assert "refused the credentials (HTTP 401)" in page


def test_a_paused_store_is_not_synced(owner, shopify_double):
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    Store.objects.filter(pk=store.pk).update(is_active=False)
    with pytest.raises(SyncRefused) as refusal:
        sync_store(store.pk)
    assert refusal.value.message == "Lakbay Shopify is paused; resume it to sync."
    assert not SyncRun.objects.exists()
    assert not shopify_double.requests


def test_a_woocommerce_backfill_follows_x_wp_totalpages(owner, woo_double, waits):
    woo_double.orders = [woo_order(n) for n in range(1, 121)] + [woo_order(500, status="on-hold")]
    store = woo_store(owner, api_base_url=woo_double.base_url)
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert (run.new_count, run.failed_count) == (120, 0)
    assert [r.query["page"] for r in woo_double.requests] == ["1", "2", "3"]
    assert {r.query["status"] for r in woo_double.requests} == {"processing"}
    assert not Order.objects.filter(external_id="500").exists()


def test_a_woocommerce_poll_picks_up_cancellations(owner, woo_double, waits):
    woo_double.orders = [woo_order(1)]
    store = woo_store(owner, api_base_url=woo_double.base_url)
    sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    woo_double.orders = [woo_order(1, status="cancelled", date_modified_gmt="2099-01-01T00:00:00")]
    run = sync_store(store.pk, kind=SyncRun.Kind.POLL, sleep=waits.append)
    assert run.updated_count == 1
    assert "modified_after" in woo_double.requests[-1].query
    assert Order.objects.get().status == Order.Status.CANCELLED


def test_woocommerce_refusing_the_keys_marks_the_store_broken(owner, woo_double, waits):
    woo_double.secret = "cs_rotated"
    store = woo_store(owner, api_base_url=woo_double.base_url)
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=waits.append)
    assert "refused the credentials (HTTP 401)" in run.error
    store.refresh_from_db()
    assert store.connection_state == Store.ConnectionState.BROKEN


def test_the_sync_log_keeps_thirty_days(owner):
    store = shopify_store(owner)
    old = SyncRun.objects.create(merchant=owner.merchant, store=store, kind="poll")
    SyncRun.objects.filter(pk=old.pk).update(started_at=timezone.now() - datetime.timedelta(days=31))
    recent = SyncRun.objects.create(merchant=owner.merchant, store=store, kind="poll")
    prune_sync_log()
    assert list(SyncRun.objects.values_list("pk", flat=True)) == [recent.pk]


def test_the_pinned_api_version_is_in_every_query_path():
    assert shopify_module.SHOPIFY_API_VERSION == "2025-01"


def test_a_run_that_crashes_is_not_left_running(owner, shopify_double, waits):
    shopify_double.orders = [_recent_node(1)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)

    def progress(run):
        raise RuntimeError("the worker was stopped")

    with pytest.raises(RuntimeError):
        sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, progress=progress, sleep=waits.append)
    run = SyncRun.objects.get()
    assert run.outcome == SyncRun.Outcome.FAILED
    assert run.error == "The sync stopped unexpectedly: RuntimeError."
