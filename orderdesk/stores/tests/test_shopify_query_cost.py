"""Shopify's 1,000-point limit on one query's requested cost: each query we send is priced from
its text the way Shopify prices it, the loopback double refuses one over the limit, and an
order (or fulfillment order) with more line items than its nested page still arrives whole."""

import datetime

import pytest
from django.utils import timezone

from orderdesk.notifications.delivery import deliver_due_notifications
from orderdesk.notifications.models import Notification
from orderdesk.orders import actions as order_actions
from orderdesk.orders.models import Order
from orderdesk.stores import shopify
from orderdesk.stores.errors import RequestRefused
from orderdesk.stores.models import SyncRun
from orderdesk.stores.sync import apply_incoming_order, sync_store

from .factories import shopify_store
from .graphql_cost import MAX_QUERY_COST, requested_cost
from .peers import money_set, shopify_node

# The page sizes as shipped, read when this module is imported: conftest's autouse fixture
# shrinks them for the other tests before each one runs.
SHIPPED = {
    name: getattr(shopify, name)
    for name in (
        "ORDERS_PAGE",
        "ORDER_LINES_PAGE",
        "REMAINING_LINES_PAGE",
        "FULFILLMENT_ORDERS_PAGE",
        "FULFILLMENT_ORDER_LINES_PAGE",
    )
}
RECENT = (timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _queries_we_send() -> dict[str, tuple[str, dict]]:
    """Each query text with the variables ShopifyClient sends it with, at the shipped sizes."""
    return {
        "shop": (shopify.SHOP_QUERY, {}),
        "orders count": (shopify.ORDERS_COUNT_QUERY, {"query": "x"}),
        "orders page": (
            shopify.ORDERS_QUERY,
            {
                "first": SHIPPED["ORDERS_PAGE"],
                "lines": SHIPPED["ORDER_LINES_PAGE"],
                "after": None,
                "query": "x",
                "withCount": True,
            },
        ),
        "an order's remaining lines": (
            shopify.ORDER_LINE_ITEMS_QUERY,
            {"id": "gid://shopify/Order/1", "first": SHIPPED["REMAINING_LINES_PAGE"], "after": "c"},
        ),
        "fulfillment orders": (
            shopify.FULFILLMENT_ORDERS_QUERY,
            {
                "id": "gid://shopify/Order/1",
                "first": SHIPPED["FULFILLMENT_ORDERS_PAGE"],
                "lines": SHIPPED["FULFILLMENT_ORDER_LINES_PAGE"],
                "after": None,
            },
        ),
        "a fulfillment order's remaining lines": (
            shopify.FULFILLMENT_ORDER_LINE_ITEMS_QUERY,
            {
                "id": "gid://shopify/FulfillmentOrder/1",
                "first": SHIPPED["REMAINING_LINES_PAGE"],
                "after": "c",
            },
        ),
        "fulfillment create": (shopify.FULFILLMENT_CREATE_MUTATION, {"fulfillment": {}}),
    }


def test_the_cost_is_worked_out_as_shopify_documents_it():
    # A connection 2 + first × node, a node or object 1 plus what it selects, a scalar 0.
    assert requested_cost("{ shop { name } }") == 1
    assert requested_cost("{ products(first: 10) { edges { node { title } } } }") == 12
    assert requested_cost("query Q($n: Int!) { products(first: $n) { nodes { title } } }", {"n": 10}) == 12
    assert requested_cost(
        "{ products(first: 10) { nodes { title variants(first: 5) { nodes { price } } } } }"
    ) == 2 + 10 * (1 + 2 + 5 * 1)
    assert requested_cost("mutation M { fulfillmentCreate(fulfillment: {}) { fulfillment { id } } }") == 10
    with pytest.raises(ValueError, match="no page size"):
        requested_cost("{ products { nodes { title } } }")


def test_the_page_sizes_we_used_to_ask_for_cost_far_more_than_shopify_runs():
    asked = requested_cost(
        shopify.ORDERS_QUERY, {"first": 250, "lines": 100, "after": None, "query": "x", "withCount": True}
    )
    assert asked == 2 + 250 * (11 + 100 * 3) + 2
    assert asked > MAX_QUERY_COST


@pytest.mark.parametrize("name", list(_queries_we_send()))
def test_every_query_we_send_stays_under_shopifys_limit(name):
    query, variables = _queries_we_send()[name]
    assert requested_cost(query, variables) <= MAX_QUERY_COST


def test_the_orders_page_is_as_big_as_the_limit_lets_it_be():
    query, variables = _queries_we_send()["orders page"]
    # The figure in shopify.py's comment, and one order more would be refused.
    assert requested_cost(query, variables) == 988
    assert requested_cost(query, {**variables, "first": variables["first"] + 1}) > MAX_QUERY_COST


def test_the_double_refuses_a_query_over_the_limit(owner, shopify_double):
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    client = shopify.ShopifyClient(store)
    with pytest.raises(RequestRefused, match=r"Query cost is 77754, which exceeds the single query max cost"):
        client.query(
            shopify.ORDERS_QUERY, {"first": 250, "lines": 100, "after": None, "query": "", "withCount": True}
        )
    [answered] = shopify_double.requests
    assert answered.path.endswith("/graphql.json")


@pytest.mark.django_db
def test_a_backfill_asking_too_much_at_once_fails_with_shopifys_reason(owner, shopify_double, monkeypatch):
    monkeypatch.setattr(shopify, "ORDERS_PAGE", 250)
    monkeypatch.setattr(shopify, "ORDER_LINES_PAGE", 100)
    shopify_double.orders = [shopify_node(1, createdAt=RECENT, updatedAt=RECENT)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=lambda _s: None)
    assert run.outcome == SyncRun.Outcome.FAILED
    assert "exceeds the single query max cost limit (1000)" in run.error
    assert not Order.objects.filter(store=store).exists()


@pytest.mark.django_db
def test_a_backfill_at_the_shipped_page_sizes_is_not_refused(owner, shopify_double, monkeypatch):
    for name, size in SHIPPED.items():
        monkeypatch.setattr(shopify, name, size)
    shopify_double.orders = [shopify_node(n, createdAt=RECENT, updatedAt=RECENT) for n in range(1, 31)]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=lambda _s: None)
    assert (run.outcome, run.new_count) == (SyncRun.Outcome.DONE, 30)
    assert [q["variables"]["first"] for q in shopify_double.queries()] == [24, 24]


def _many_lines(count: int) -> list[dict]:
    return [
        {
            "sku": f"SKU-{n}",
            "title": f"Item {n}",
            "variantTitle": None,
            "quantity": 1,
            "originalUnitPriceSet": money_set("10.00"),
        }
        for n in range(1, count + 1)
    ]


@pytest.mark.django_db
def test_an_order_with_more_lines_than_its_page_arrives_whole(owner, shopify_double, monkeypatch):
    # Pages of 2 lines with the order (conftest), then the rest 10 at a time: 2 + 10 + 10 + 3.
    monkeypatch.setattr(shopify, "REMAINING_LINES_PAGE", 10)
    shopify_double.orders = [
        shopify_node(1, createdAt=RECENT, updatedAt=RECENT, lineItems={"nodes": _many_lines(25)}),
        shopify_node(2, createdAt=RECENT, updatedAt=RECENT),
    ]
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=lambda _s: None)
    assert (run.outcome, run.new_count, run.failed_count) == (SyncRun.Outcome.DONE, 2, 0)
    many = Order.objects.get(store=store, external_id="1")
    assert sorted(many.lines.values_list("sku", flat=True)) == sorted(f"SKU-{n}" for n in range(1, 26))
    assert Order.objects.get(store=store, external_id="2").lines.count() == 2
    follow_ups = [q["variables"] for q in shopify_double.queries() if "OrderLineItems" in q["query"]]
    assert [(v["id"], v["first"]) for v in follow_ups] == [("gid://shopify/Order/1", 10)] * 3
    assert len({v["after"] for v in follow_ups}) == 3


@pytest.mark.django_db
def test_an_order_whose_remaining_lines_cannot_be_read_is_not_taken_in(owner, shopify_double, monkeypatch):
    shopify_double.orders = [
        shopify_node(1, createdAt=RECENT, updatedAt=RECENT, lineItems={"nodes": _many_lines(5)}),
        shopify_node(2, createdAt=RECENT, updatedAt=RECENT),
    ]
    # Deleted in the store between its page and the follow-up query.
    monkeypatch.setattr(shopify_double, "_order_line_items", lambda asked, variables: {"order": None})
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    run = sync_store(store.pk, kind=SyncRun.Kind.BACKFILL, sleep=lambda _s: None)
    assert (run.new_count, run.failed_count) == (1, 1)
    assert "Not all of the order's line items could be read" in str(run.failures)
    assert list(Order.objects.filter(store=store).values_list("external_id", flat=True)) == ["2"]


@pytest.mark.django_db
def test_tracking_reaches_every_item_of_a_fulfillment_order_longer_than_its_page(
    owner, shopify_double, monkeypatch
):
    monkeypatch.setattr(shopify, "FULFILLMENT_ORDER_LINES_PAGE", 2)
    monkeypatch.setattr(shopify, "REMAINING_LINES_PAGE", 2)
    shopify_double.orders.append(shopify_node(5001, lineItems={"nodes": _many_lines(5)}))
    store = shopify_store(owner, api_base_url=shopify_double.base_url)
    apply_incoming_order(store, shopify.order_from_graphql(shopify_double.orders[-1]), notify=False)
    order = Order.objects.get(store=store, external_id="5001")
    order_actions.dispatch_order(
        order.pk,
        by=owner,
        delivery_reference="JT-1",
        expected_on=timezone.localdate() + datetime.timedelta(days=3),
    )
    deliver_due_notifications()
    [row] = Notification.objects.filter(
        about_type="order", about_id=str(order.pk), channel=Notification.Channel.STORE
    )
    assert row.status == Notification.Status.SENT
    [created] = shopify_double.fulfillments
    [by_order] = created["input"]["lineItemsByFulfillmentOrder"]
    assert [i["id"] for i in by_order["fulfillmentOrderLineItems"]] == [
        f"gid://shopify/FulfillmentOrderLineItem/5001{n:02d}" for n in range(1, 6)
    ]
    follow_ups = [q for q in shopify_double.queries() if "FulfillmentOrderLineItems" in q["query"]]
    assert len(follow_ups) == 2
