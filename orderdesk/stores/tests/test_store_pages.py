import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from orderdesk.accounts.models import Membership
from orderdesk.accounts.tests.factories import MembershipFactory, owner_actor
from orderdesk.orders.models import Order
from orderdesk.stores.models import Store, SyncRun

from .factories import shopify_store
from .peers import SHOPIFY_TOKEN, shopify_node

pytestmark = pytest.mark.django_db


def test_connecting_a_shopify_store_checks_it_and_backfills_its_paid_orders(
    owner_client, owner, shopify_double, django_capture_on_commit_callbacks
):
    recent = (timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    shopify_double.orders = [shopify_node(n, createdAt=recent, updatedAt=recent) for n in (1, 2)]
    account = owner_client.get(reverse("accounts:account"))
    assert reverse("stores:add") in account.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        answer = owner_client.post(
            reverse("stores:add"),
            {
                "channel": "shopify",
                "name": "Lakbay Shopify",
                "url": "lakbay.myshopify.com",
                "access_token": SHOPIFY_TOKEN,
                "webhook_secret": "app-secret",
                "api_base_url": shopify_double.base_url,
            },
        )
    store = Store.objects.get(merchant=owner.merchant)
    assert answer.url == reverse("stores:detail", args=[store.pk])
    page = owner_client.get(answer.url).content.decode()
    assert "Connected to Lakbay Crafts (PHP)." in page
    assert SHOPIFY_TOKEN not in page
    assert "…" + SHOPIFY_TOKEN[-4:] in page
    assert f"/stores/{store.webhook_token}/webhooks/shopify/" in page
    assert "2 new, 0 updated, 0 unchanged, 0 failed" in page
    assert Order.objects.filter(store=store, status=Order.Status.PENDING).count() == 2
    assert (
        reverse("stores:detail", args=[store.pk])
        in owner_client.get(reverse("accounts:account")).content.decode()
    )


def test_a_store_that_refuses_the_new_credentials_is_saved_and_says_why(owner_client, owner, shopify_double):
    answer = owner_client.post(
        reverse("stores:add"),
        {
            "channel": "shopify",
            "name": "Lakbay Shopify",
            "url": "lakbay.myshopify.com",
            "access_token": "shpat_wrong_token_1234",
            "webhook_secret": "app-secret",
            "api_base_url": shopify_double.base_url,
        },
        follow=True,
    )
    assert (
        "is saved, but the check failed: Lakbay Shopify refused the credentials (HTTP 401)"
        in answer.content.decode()
    )
    assert not Order.objects.exists()


def test_a_running_sync_log_polls_itself_until_the_run_ends(owner_client, owner):
    store = shopify_store(owner)
    run = SyncRun.objects.create(merchant=owner.merchant, store=store, kind="backfill", new_count=50)
    partial = owner_client.get(
        reverse("stores:detail", args=[store.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'hx-trigger="every 2s"' in partial
    assert "running: 50 orders so far" in partial
    assert "<progress" in partial and "value=" not in partial.split("<progress")[1].split(">")[0]
    SyncRun.objects.filter(pk=run.pk).update(expected_count=200)
    partial = owner_client.get(
        reverse("stores:detail", args=[store.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "running: 50 of 200 orders so far" in partial
    assert 'max="100" value="25"' in partial
    SyncRun.objects.filter(pk=run.pk).update(outcome="done")
    partial = owner_client.get(
        reverse("stores:detail", args=[store.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "hx-trigger" not in partial


def test_a_refused_connection_shows_the_message_beside_the_field_and_keeps_what_was_typed(owner_client):
    answer = owner_client.post(
        reverse("stores:add"),
        {"channel": "shopify", "name": "Lakbay Shopify", "url": "not a domain", "webhook_secret": "s"},
    )
    assert answer.status_code == 422
    page = answer.content.decode()
    assert "is not a shop domain like lakbay.myshopify.com." in page
    assert 'value="Lakbay Shopify"' in page
    assert not Store.objects.exists()


def test_staff_are_turned_away_from_the_store_pages(client, owner):
    store = shopify_store(owner)
    staff = MembershipFactory(merchant=owner.merchant, role=Membership.Role.STAFF).user
    client.force_login(staff)
    for url in (reverse("stores:add"), reverse("stores:detail", args=[store.pk])):
        answer = client.get(url)
        assert answer.status_code == 403
        assert "Only the shop&#x27;s owner can manage stores." in answer.content.decode()
    assert client.post(reverse("stores:pause", args=[store.pk])).status_code == 403
    store.refresh_from_db()
    assert store.is_active


def test_another_merchants_store_page_is_not_found(owner_client):
    store = shopify_store(owner_actor())
    assert owner_client.get(reverse("stores:detail", args=[store.pk])).status_code == 404
    assert owner_client.post(reverse("stores:pause", args=[store.pk])).status_code == 404


def test_pause_resume_and_remove_from_the_store_page(owner_client, owner):
    store = shopify_store(owner)
    owner_client.post(reverse("stores:pause", args=[store.pk]))
    store.refresh_from_db()
    assert not store.is_active
    assert "Resume syncing" in owner_client.get(reverse("stores:detail", args=[store.pk])).content.decode()
    owner_client.post(reverse("stores:resume", args=[store.pk]))
    store.refresh_from_db()
    assert store.is_active
    answer = owner_client.post(reverse("stores:remove", args=[store.pk]), follow=True)
    assert "The store is removed; its orders stay." in answer.content.decode()
    assert owner_client.get(reverse("stores:detail", args=[store.pk])).status_code == 404


def test_testing_the_connection_from_the_store_page_says_what_the_shop_answered(
    owner_client, owner, shopify_double
):
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    answer = owner_client.post(reverse("stores:test", args=[store.pk]), follow=True)
    assert "Connected to Lakbay Crafts (PHP)." in answer.content.decode()


def test_the_account_page_marks_a_store_whose_credentials_were_refused(owner_client, owner):
    store = shopify_store(owner)
    assert "credentials refused" not in owner_client.get(reverse("accounts:account")).content.decode()
    Store.objects.filter(pk=store.pk).update(connection_state=Store.ConnectionState.BROKEN)
    assert "credentials refused" in owner_client.get(reverse("accounts:account")).content.decode()


def test_after_sync_now_the_log_polls_until_the_asked_sync_has_run(owner_client, owner):
    store = shopify_store(owner)
    SyncRun.objects.create(
        merchant=owner.merchant, store=store, kind="poll", outcome="done", started_at=timezone.now()
    )
    Store.objects.filter(pk=store.pk).update(last_synced_at=timezone.now(), connection_state="ok")
    url = reverse("stores:detail", args=[store.pk])
    assert 'hx-trigger="every 2s"' not in owner_client.get(url).content.decode()

    owner_client.post(reverse("stores:sync", args=[store.pk]), {"kind": "poll"})

    # The background job has not started the run yet: the log keeps asking.
    assert 'hx-trigger="every 2s"' in owner_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    SyncRun.objects.create(
        merchant=owner.merchant,
        store=store,
        kind="poll",
        outcome="done",
        started_at=timezone.now() + datetime.timedelta(seconds=1),
    )
    assert 'hx-trigger="every 2s"' not in owner_client.get(url, HTTP_HX_REQUEST="true").content.decode()
