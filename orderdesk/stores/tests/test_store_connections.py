import pytest
from django.db import connection

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.errors import NotAllowed
from orderdesk.accounts.models import Membership
from orderdesk.accounts.tests.factories import MembershipFactory, owner_actor
from orderdesk.stores import actions
from orderdesk.stores.actions import StoreDetails
from orderdesk.stores.credentials import decrypt_credentials, decrypt_text
from orderdesk.stores.errors import ConnectionRefused, InvalidStoreDetails
from orderdesk.stores.models import Store
from orderdesk.stores.shopify import ShopifyClient

from .factories import SHOPIFY_SECRET, shopify_store, woo_store
from .peers import SHOPIFY_TOKEN, WOO_KEY

pytestmark = pytest.mark.django_db


def _raw_store_row(store_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM stores_store WHERE id = %s", [store_id])
        return repr(cursor.fetchone())


def test_credentials_are_stored_encrypted_and_only_their_last_characters_are_kept_readable(owner):
    store = shopify_store(owner)
    row = _raw_store_row(store.pk)
    assert SHOPIFY_TOKEN not in row
    assert SHOPIFY_SECRET not in row
    assert decrypt_credentials(store.credentials_encrypted) == {"access_token": SHOPIFY_TOKEN}
    assert decrypt_text(store.webhook_secret_encrypted) == SHOPIFY_SECRET
    assert store.credentials_hint == "…" + SHOPIFY_TOKEN[-4:]


def test_credentials_saved_under_another_key_are_refused_with_a_message_to_enter_them_again(owner, settings):
    store = shopify_store(owner)
    settings.CREDENTIALS_KEY = "a-different-key"
    with pytest.raises(ConnectionRefused) as refusal:
        decrypt_credentials(store.credentials_encrypted)
    assert "enter them again" in refusal.value.message


def test_a_shopify_connection_talks_to_the_real_shop_unless_its_api_address_is_overridden(owner):
    real = ShopifyClient(shopify_store(owner))
    assert real.endpoint == "https://lakbay.myshopify.com/admin/api/2025-01/graphql.json"
    elsewhere = ShopifyClient(shopify_store(owner, name="Other", api_base_url="http://127.0.0.1:9/"))
    assert elsewhere.endpoint == "http://127.0.0.1:9/admin/api/2025-01/graphql.json"


@pytest.mark.parametrize(
    ("details", "message", "field"),
    [
        ({"name": " "}, "Give the store a name.", "name"),
        ({"url": "not a domain"}, "is not a shop domain", "url"),
        ({"access_token": ""}, "Enter the Admin API access token.", "access_token"),
        ({"access_token": "has spaces in it"}, "does not look like a key", "access_token"),
        ({"webhook_secret": ""}, "Enter the app's webhook signing secret.", "webhook_secret"),
        ({"api_base_url": "ftp://example.com"}, "must start with https://", "api_base_url"),
        ({"name": "Lakbay\x00"}, "NUL character", "name"),
    ],
)
def test_connecting_a_shopify_store_refuses_bad_details_and_stores_nothing(owner, details, message, field):
    fields = {
        "channel": Store.Channel.SHOPIFY,
        "name": "Lakbay Shopify",
        "url": "lakbay.myshopify.com",
        "access_token": SHOPIFY_TOKEN,
        "webhook_secret": SHOPIFY_SECRET,
    } | details
    with pytest.raises(InvalidStoreDetails) as refusal:
        actions.add_store(StoreDetails(**fields), by=owner)
    assert message in refusal.value.message
    assert refusal.value.field == field
    assert not Store.objects.exists()


def test_a_woocommerce_store_needs_its_site_address_and_both_keys(owner):
    with pytest.raises(InvalidStoreDetails) as refusal:
        actions.add_store(
            StoreDetails(channel="woocommerce", name="Woo", url="https://shop.example", consumer_key=WOO_KEY),
            by=owner,
        )
    assert refusal.value.message == "Enter the REST API consumer secret."
    assert not Store.objects.exists()


def test_two_stores_of_a_shop_cannot_share_a_name(owner):
    shopify_store(owner)
    with pytest.raises(InvalidStoreDetails) as refusal:
        shopify_store(owner)
    assert refusal.value.message == "You already have a store named “Lakbay Shopify”."
    assert Store.objects.count() == 1


def test_a_csv_store_needs_only_a_name(owner):
    store = actions.add_store(StoreDetails(channel="csv", name="Bazaar sheet"), by=owner)
    assert store.channel == Store.Channel.CSV
    assert store.credentials_encrypted == ""


def test_staff_cannot_connect_a_store(owner):
    staff = Actor.for_user(MembershipFactory(merchant=owner.merchant, role=Membership.Role.STAFF).user)
    with pytest.raises(NotAllowed) as refusal:
        shopify_store(staff)
    assert refusal.value.message == "Only the shop's owner can manage stores."
    assert not Store.objects.exists()


def test_checking_a_connection_asks_the_shop_who_it_is_and_marks_it_connected(owner, shopify_double):
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    said = actions.check_store_connection(store.pk, by=owner)
    assert said == "Connected to Lakbay Crafts (PHP)."
    assert shopify_double.requests[0].headers["x-shopify-access-token"] == SHOPIFY_TOKEN
    store.refresh_from_db()
    assert store.connection_state == Store.ConnectionState.OK


def test_a_refused_token_marks_the_connection_broken(owner, shopify_double):
    store = shopify_store(owner, api_base_url=shopify_double.base_url, token="shpat_revoked_token_000")
    with pytest.raises(ConnectionRefused) as refusal:
        actions.check_store_connection(store.pk, by=owner)
    assert "refused the credentials (HTTP 401)" in refusal.value.message
    store.refresh_from_db()
    assert store.connection_state == Store.ConnectionState.BROKEN
    assert store.broken_since is not None


def test_checking_a_woocommerce_connection_reads_one_order_with_the_keys(owner, woo_double):
    store = woo_store(owner, api_base_url=woo_double.base_url)
    assert actions.check_store_connection(store.pk, by=owner) == (
        "Connected to https://shop.lakbay.example: the keys may read orders."
    )
    assert woo_double.requests[0].query["per_page"] == "1"


def test_pausing_and_resuming_a_store(owner):
    store = shopify_store(owner)
    assert actions.pause_store(store.pk, by=owner).is_active is False
    assert actions.resume_store(store.pk, by=owner).is_active is True


def test_removing_a_store_erases_its_credentials_and_frees_its_name(owner):
    store = shopify_store(owner)
    actions.remove_store(store.pk, by=owner)
    store.refresh_from_db()
    assert store.removed_at is not None
    assert (store.credentials_encrypted, store.webhook_secret_encrypted, store.credentials_hint) == (
        "",
        "",
        "",
    )
    assert shopify_store(owner).name == "Lakbay Shopify"


def test_another_merchants_store_cannot_be_touched(owner):
    store = shopify_store(owner_actor())
    from orderdesk.stores.errors import StoreNotFound

    with pytest.raises(StoreNotFound):
        actions.pause_store(store.pk, by=owner)
    store.refresh_from_db()
    assert store.is_active
