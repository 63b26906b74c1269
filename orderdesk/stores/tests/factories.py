"""Stores connected through the domain function, so their credentials are encrypted as in production."""

from orderdesk.accounts.actors import Actor
from orderdesk.stores import actions
from orderdesk.stores.actions import StoreDetails
from orderdesk.stores.models import Store

from .peers import SHOPIFY_TOKEN, WOO_KEY, WOO_SECRET

SHOPIFY_SECRET = "shopify-app-secret-for-tests"
WOO_WEBHOOK_SECRET = "woo-webhook-secret-for-tests"


def shopify_store(
    by: Actor, *, api_base_url: str = "", name: str = "Lakbay Shopify", token: str = SHOPIFY_TOKEN
) -> Store:
    return actions.add_store(
        StoreDetails(
            channel=Store.Channel.SHOPIFY,
            name=name,
            url="lakbay.myshopify.com",
            api_base_url=api_base_url,
            access_token=token,
            webhook_secret=SHOPIFY_SECRET,
        ),
        by=by,
    )


def woo_store(by: Actor, *, api_base_url: str = "", name: str = "Lakbay Woo") -> Store:
    return actions.add_store(
        StoreDetails(
            channel=Store.Channel.WOOCOMMERCE,
            name=name,
            url="https://shop.lakbay.example",
            api_base_url=api_base_url,
            consumer_key=WOO_KEY,
            consumer_secret=WOO_SECRET,
            webhook_secret=WOO_WEBHOOK_SECRET,
        ),
        by=by,
    )
