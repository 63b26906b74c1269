import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from orderdesk.orders.models import Order
from orderdesk.stores.credentials import decrypt_credentials
from orderdesk.stores.models import Store

from .factories import shopify_store
from .peers import SHOPIFY_TOKEN, WOO_KEY, WOO_SECRET, shopify_node

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("stores", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_add_connects_a_store_for_the_owners_shop_and_prints_its_webhook_url(owner):
    out, _ = run(
        "add",
        "--owner",
        owner.user.email,
        "--channel",
        "woocommerce",
        "--name",
        "Woo",
        "--url",
        "https://shop.example",
        "--consumer-key",
        WOO_KEY,
        "--consumer-secret",
        WOO_SECRET,
        "--webhook-secret",
        "hook-secret",
    )
    store = Store.objects.get(merchant=owner.merchant)
    assert f"Added store {store.pk}: Woo (WooCommerce)." in out
    assert f"Webhook URL: http://127.0.0.1:8000/stores/{store.webhook_token}/webhooks/woocommerce/" in out
    assert decrypt_credentials(store.credentials_encrypted)["consumer_secret"] == WOO_SECRET


def test_add_refuses_missing_secrets_without_a_terminal_and_stores_nothing(owner):
    with pytest.raises(CommandError) as refusal:
        run(
            "add",
            "--owner",
            owner.user.email,
            "--channel",
            "shopify",
            "--name",
            "S",
            "--url",
            "s.myshopify.com",
        )
    assert str(refusal.value) == "Give --access-token (Admin API access token)."
    assert not Store.objects.exists()


def test_add_says_why_a_detail_is_refused(owner):
    with pytest.raises(CommandError) as refusal:
        run(
            "add",
            "--owner",
            owner.user.email,
            "--channel",
            "shopify",
            "--name",
            "S",
            "--url",
            "nope",
            "--access-token",
            SHOPIFY_TOKEN,
            "--webhook-secret",
            "x",
        )
    assert "is not a shop domain" in str(refusal.value)


def test_list_shows_each_store_with_its_webhook_url(owner):
    store = shopify_store(owner)
    out, _ = run("list")
    assert "Lakbay Shopify" in out
    assert f"/stores/{store.webhook_token}/webhooks/shopify/" in out


def test_test_and_sync_talk_to_the_store_and_sync_prints_progress(owner, shopify_double):
    recent = (timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    shopify_double.orders = [shopify_node(n, createdAt=recent, updatedAt=recent) for n in range(1, 4)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    out, _ = run("test", str(store.pk))
    assert "Connected to Lakbay Crafts (PHP)." in out
    out, _ = run("sync", str(store.pk), "--backfill")
    bar = "#" * 24
    assert f"\rLakbay Shopify: [{bar}] 100% 3/3 · 3 new, 0 updated, 0 unchanged, 0 failed" in out
    assert Order.objects.count() == 3


def test_the_progress_bar_fills_as_pages_come_in(owner, shopify_double):
    recent = (timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    shopify_double.orders = [shopify_node(n, createdAt=recent, updatedAt=recent) for n in range(1, 201)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)

    out, _ = run("sync", str(store.pk), "--backfill")

    lines = [line for line in out.split("\r") if line.strip()]
    assert [line.split("]")[0].split("[")[1] for line in lines] == [
        "#" * 6 + "-" * 18,
        "#" * 12 + "-" * 12,
        "#" * 18 + "-" * 6,
        "#" * 24,
    ]
    assert " 25% 50/200 · 50 new" in lines[0]


def test_a_poll_without_a_store_count_prints_a_plain_progress_line(owner, woo_double):
    from .factories import woo_store
    from .peers import woo_order

    woo_double.orders = [woo_order(1)]
    store = woo_store(owner, api_base_url=woo_double.base_url)
    Store.objects.filter(pk=store.pk).update(sync_cursor="2026-11-01T00:00:00+00:00")
    woo_double.fail_next(200, [woo_order(1)], {"X-WP-TotalPages": "1"})

    out, _ = run("sync", str(store.pk))

    assert "\rLakbay Woo: 1 orders · 1 new, 0 updated, 0 unchanged, 0 failed" in out


def test_sync_of_a_store_refusing_its_token_fails_with_the_reason(owner, shopify_double):
    store = shopify_store(owner, api_base_url=shopify_double.base_url, token="shpat_revoked_1234")
    err = StringIO()
    with pytest.raises(CommandError) as refusal:
        call_command("stores", "sync", str(store.pk), stdout=StringIO(), stderr=err)
    assert str(refusal.value) == "Some stores could not be synced."
    assert "Lakbay Shopify: Lakbay Shopify refused the credentials (HTTP 401)" in err.getvalue()
    store.refresh_from_db()
    assert store.connection_state == Store.ConnectionState.BROKEN
