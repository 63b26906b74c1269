"""Shopify: the GraphQL Admin API at a pinned version, and its webhook payloads."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterator
from decimal import Decimal

import requests

from . import incoming, shopify_bulk
from .credentials import decrypt_credentials
from .errors import MalformedStoreOrder, RequestRefused, StoreUnreachable, TrackingRefused
from .incoming import IncomingLine, IncomingOrder
from .models import SHOPIFY_API_VERSION, Store
from .transport import StoreApi

logger = logging.getLogger(__name__)

# Page sizes. Shopify refuses a query whose *requested* cost is over 1,000 points
# (MAX_COST_EXCEEDED), and prices it before running it from the page sizes asked for: a
# connection costs 2 + first × (each node's cost), an object 1 (plus what it selects), a
# scalar 0. Nested pages multiply, so 250 orders × 100 line items (over 77,000 points) was refused
# by any real shop. The sums below follow the query texts; tests/test_shopify_query_cost.py
# prices each query text we send and checks it stays under the limit.
MAX_QUERY_COST = 1000
# The largest page Shopify gives of any connection; used by the follow-up queries.
LARGEST_PAGE = 250
# Line items asked for with each order of a page: most orders have fewer, and an order with
# more gets the rest from ORDER_LINE_ITEMS_QUERY before it is taken in.
ORDER_LINES_PAGE = 10
# One order node: itself 1, customer 1, shippingAddress 1, shippingLine 3, totalDiscountsSet 2,
# lineItems 2 + ORDER_LINES_PAGE × 3 (line, originalUnitPriceSet, shopMoney) + pageInfo 1.
_ORDER_NODE_COST = 1 + 1 + 1 + 3 + 2 + (2 + ORDER_LINES_PAGE * 3 + 1)
# The page: orders 2 + n × node + pageInfo 1, and ordersCount 1 (10 lines: 24 orders, 988 points).
ORDERS_PAGE = (MAX_QUERY_COST - 2 - 1 - 1) // _ORDER_NODE_COST
# A fulfillment order: itself 1, lineItems 2 + n × 2 (item, lineItem) + pageInfo 1; the query:
# order 1, fulfillmentOrders 2 + 10 × that + pageInfo 1 (10 × 40 items: 844 points). Most
# orders ship from one location; more of either come by follow-up pages.
FULFILLMENT_ORDERS_PAGE = 10
FULFILLMENT_ORDER_LINES_PAGE = 40
# Follow-ups for an order's or fulfillment order's remaining items: 1 + 2 + 250 × 3 + 1 = 754
# and 1 + 2 + 250 × 2 + 1 = 504 points.
REMAINING_LINES_PAGE = LARGEST_PAGE

SHOP_QUERY = "query Shop { shop { name currencyCode } }"

ORDERS_COUNT_QUERY = (
    "query OrdersCount($query: String) { ordersCount(query: $query, limit: null) { count precision } }"
)

_ORDER_LINE = "sku title variantTitle quantity originalUnitPriceSet { shopMoney { amount currencyCode } }"

ORDERS_QUERY = f"""
query Orders($first: Int!, $lines: Int!, $after: String, $query: String, $withCount: Boolean!) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    nodes {{
      id legacyResourceId name createdAt updatedAt cancelledAt
      displayFinancialStatus displayFulfillmentStatus
      email phone note currencyCode paymentGatewayNames
      customer {{ firstName lastName email phone }}
      shippingAddress {{ name address1 address2 city province zip country phone }}
      shippingLine {{ title originalPriceSet {{ shopMoney {{ amount currencyCode }} }} }}
      totalDiscountsSet {{ shopMoney {{ amount currencyCode }} }}
      lineItems(first: $lines) {{
        nodes {{ {_ORDER_LINE} }}
        pageInfo {{ hasNextPage endCursor }}
      }}
    }}
    pageInfo {{ hasNextPage endCursor }}
  }}
  ordersCount(query: $query, limit: null) @include(if: $withCount) {{ count precision }}
}}
"""

# The rest of an order's line items, after those its page brought.
ORDER_LINE_ITEMS_QUERY = f"""
query OrderLineItems($id: ID!, $first: Int!, $after: String) {{
  order(id: $id) {{
    id
    lineItems(first: $first, after: $after) {{
      nodes {{ {_ORDER_LINE} }}
      pageInfo {{ hasNextPage endCursor }}
    }}
  }}
}}
"""

_FULFILLMENT_ORDER_LINE = "id totalQuantity remainingQuantity lineItem { sku name }"

# The order's fulfillment orders (one per location it ships from) and their open items.
FULFILLMENT_ORDERS_QUERY = f"""
query OrderFulfillmentOrders($id: ID!, $first: Int!, $lines: Int!, $after: String) {{
  order(id: $id) {{
    id
    fulfillmentOrders(first: $first, after: $after) {{
      nodes {{
        id status
        lineItems(first: $lines) {{
          nodes {{ {_FULFILLMENT_ORDER_LINE} }}
          pageInfo {{ hasNextPage endCursor }}
        }}
      }}
      pageInfo {{ hasNextPage endCursor }}
    }}
  }}
}}
"""

# The rest of a fulfillment order's line items, after those the query above brought.
FULFILLMENT_ORDER_LINE_ITEMS_QUERY = f"""
query FulfillmentOrderLineItems($id: ID!, $first: Int!, $after: String) {{
  fulfillmentOrder(id: $id) {{
    id
    lineItems(first: $first, after: $after) {{
      nodes {{ {_FULFILLMENT_ORDER_LINE} }}
      pageInfo {{ hasNextPage endCursor }}
    }}
  }}
}}
"""

FULFILLMENT_CREATE_MUTATION = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo { company number url } }
    userErrors { field message }
  }
}
"""

# Fulfillment orders in these states still take fulfillments.
_ACTIONABLE = ("OPEN", "IN_PROGRESS")


def api_base_url(store: Store) -> str:
    if store.api_base_url:
        return store.api_base_url.rstrip("/")
    domain = store.url.removeprefix("https://").removeprefix("http://").strip("/")
    return f"https://{domain}"


class ShopifyClient:
    """A shop's GraphQL Admin API, with its cost-based throttling respected."""

    def __init__(self, store: Store, *, sleep: Callable[[float], None] | None = None):
        credentials = decrypt_credentials(store.credentials_encrypted)
        session = requests.Session()
        session.headers.update(
            {
                "X-Shopify-Access-Token": credentials.get("access_token", ""),
                "Content-Type": "application/json",
            }
        )
        extra = {"sleep": sleep} if sleep else {}
        self.api = StoreApi(store_name=store.name, session=session, **extra)
        self.endpoint = f"{api_base_url(store)}/admin/api/{SHOPIFY_API_VERSION}/graphql.json"
        # How many orders the run's pages hold in all, as the first page's ordersCount said.
        self.expected_total: int | None = None

    def query(self, query: str, variables: dict | None = None) -> dict:
        """The query's data; waits out throttling (429, or a THROTTLED error) and retries."""
        for _attempt in range(5):
            response = self.api.call(
                "POST", self.endpoint, json={"query": query, "variables": variables or {}}
            )
            answer = self.api.json_of(response)
            if not isinstance(answer, dict):
                raise StoreUnreachable("Shopify answered with an unexpected document.")
            cost = (answer.get("extensions") or {}).get("cost") or {}
            errors = answer.get("errors") or []
            if any(
                (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors if isinstance(e, dict)
            ):
                self.api.wait(_seconds_until_affordable(cost))
                continue
            if any(
                (e.get("extensions") or {}).get("code") in ("ACCESS_DENIED", "MAX_COST_EXCEEDED")
                for e in errors
                if isinstance(e, dict)
            ):
                # A scope the app lacks, or a query dearer than Shopify runs at all: asking again
                # will not help.
                raise RequestRefused(
                    "Shopify refused the query: "
                    + "; ".join(str(e.get("message", e)) for e in errors if isinstance(e, dict))[:300]
                )
            if errors:
                messages = "; ".join(
                    str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors
                )
                raise StoreUnreachable(f"Shopify refused the query: {messages[:300]}")
            if _would_throttle(cost):
                # Wait for the bucket to refill rather than be throttled by the next query.
                self.api.wait(_seconds_until_affordable(cost))
            return answer.get("data") or {}
        raise StoreUnreachable("Shopify kept throttling our queries.")

    def shop(self) -> dict:
        return self.query(SHOP_QUERY).get("shop") or {}

    def order_pages(
        self,
        *,
        created_after: datetime.datetime | None = None,
        updated_after: datetime.datetime | None = None,
    ) -> Iterator[list[dict]]:
        """Pages of order nodes: the backfill's paid, unfulfilled orders created since a time,
        or the poll's orders of any standing updated since its cursor (edits, cancellations).
        A backfill of at least STORE_BULK_BACKFILL_ORDERS orders is read as one bulk export
        (shopify_bulk.py) after its first page; the pages it gives are the same order nodes."""
        if updated_after is not None:
            yield from self._search_pages(f"updated_at:>='{_shopify_time(updated_after)}'")
            return
        search = _backfill_search(created_after)
        pages = self._search_pages(search)
        # The first page says how many orders the backfill holds (ordersCount): a small one
        # goes on page by page, a large one is read as one bulk export instead.
        first = next(pages, None)
        if first is None:
            return
        if shopify_bulk.should_go_bulk(self.expected_total):
            exported = shopify_bulk.exported_order_pages(self, search)
            try:
                # Shopify's refusals come before the export's first page, so before any of
                # its orders is taken in.
                first_exported = next(exported, None)
            except shopify_bulk.BulkUnavailable as unavailable:
                logger.warning("Store %s: %s", self.api.store_name, unavailable.reason)
                self.note(f"{unavailable.reason}; the backfill read the orders page by page instead.")
            else:
                # The first page's orders are in the export too.
                if first_exported is not None:
                    yield first_exported
                    yield from exported
                return
        yield first
        yield from pages

    def orders_by_id(self, legacy_ids: list[str]) -> Iterator[list[dict]]:
        """Pages of the orders with these ids (numbers or gids), each with all its line items."""
        numbers = [str(i).rsplit("/", 1)[-1] for i in legacy_ids]
        for start in range(0, len(numbers), ORDERS_PAGE):
            chunk = numbers[start : start + ORDERS_PAGE]
            yield from self._search_pages(" OR ".join(f"id:{n}" for n in chunk), count=False)

    def note(self, text: str) -> None:
        """Something the run's sync log should say (the sync sets where it goes)."""

    def _search_pages(self, search: str, *, count: bool = True) -> Iterator[list[dict]]:
        after = None
        while True:
            data = self.query(
                ORDERS_QUERY,
                {
                    "first": ORDERS_PAGE,
                    "lines": ORDER_LINES_PAGE,
                    "after": after,
                    "query": search,
                    "withCount": count and after is None,
                },
            )
            expected = _count_of(data.get("ordersCount"))
            if expected is not None:
                self.expected_total = expected
            orders = data.get("orders") or {}
            yield [self._with_every_line(node) for node in orders.get("nodes") or []]
            page = orders.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                return
            after = page.get("endCursor")

    def _with_every_line(self, node):
        """The order node with all its line items: those past its page are asked for by the
        order's id. If the order is gone meanwhile, the node keeps hasNextPage and
        order_from_graphql refuses it, so no order is taken in with lines missing."""
        if not isinstance(node, dict) or not node.get("id"):
            return node
        lines = node.get("lineItems")
        if not isinstance(lines, dict):
            return node

        def rest(after):
            order = self.query(
                ORDER_LINE_ITEMS_QUERY, {"id": node["id"], "first": REMAINING_LINES_PAGE, "after": after}
            ).get("order")
            return (order or {}).get("lineItems")

        return {**node, "lineItems": _every_node(lines, rest)}

    def open_fulfillment_orders(self, order_id: str) -> list[dict]:
        """The order's fulfillment orders that still take fulfillments, with all their line
        items; raises TrackingRefused when Shopify has no such order."""
        nodes: list[dict] = []
        after = None
        while True:
            data = self.query(
                FULFILLMENT_ORDERS_QUERY,
                {
                    "id": f"gid://shopify/Order/{order_id}",
                    "first": FULFILLMENT_ORDERS_PAGE,
                    "lines": FULFILLMENT_ORDER_LINES_PAGE,
                    "after": after,
                },
            )
            order = data.get("order")
            if not order:
                raise TrackingRefused(f"Shopify has no order {order_id}.")
            page = order.get("fulfillmentOrders") or {}
            nodes += [n for n in page.get("nodes") or [] if isinstance(n, dict)]
            if not (page.get("pageInfo") or {}).get("hasNextPage"):
                break
            after = page["pageInfo"].get("endCursor")
        actionable = [node for node in nodes if node.get("status") in _ACTIONABLE]
        return [self._with_every_item(node) for node in actionable]

    def _with_every_item(self, fulfillment_order: dict) -> dict:
        """The fulfillment order with all its line items (those past its page asked for by id)."""
        lines = fulfillment_order.get("lineItems")
        if not isinstance(lines, dict) or not fulfillment_order.get("id"):
            return fulfillment_order

        def rest(after):
            found = self.query(
                FULFILLMENT_ORDER_LINE_ITEMS_QUERY,
                {"id": fulfillment_order["id"], "first": REMAINING_LINES_PAGE, "after": after},
            ).get("fulfillmentOrder")
            if not found:
                raise TrackingRefused("Shopify no longer has one of the order's fulfillment orders.")
            return found.get("lineItems")

        return {**fulfillment_order, "lineItems": _every_node(lines, rest)}

    def create_fulfillment(self, fulfillment_order_id: str, items: list[dict], *, tracking: dict) -> str:
        """fulfillmentCreate for these items ({id, quantity}) of one fulfillment order, with the
        tracking info; the customer is not emailed (Orderdesk tells them). Returns its id."""
        data = self.query(
            FULFILLMENT_CREATE_MUTATION,
            {
                "fulfillment": {
                    "lineItemsByFulfillmentOrder": [
                        {"fulfillmentOrderId": fulfillment_order_id, "fulfillmentOrderLineItems": items}
                    ],
                    "notifyCustomer": False,
                    "trackingInfo": tracking,
                }
            },
        )
        created = data.get("fulfillmentCreate") or {}
        errors = [e for e in created.get("userErrors") or [] if isinstance(e, dict)]
        if errors:
            raise TrackingRefused(
                "Shopify refused the fulfillment: " + "; ".join(str(e.get("message")) for e in errors)[:300]
            )
        fulfillment = created.get("fulfillment") or {}
        return str(fulfillment.get("id") or "")


def _every_node(connection: dict, next_page: Callable[[str | None], dict | None]) -> dict:
    """A connection's nodes with those of its further pages (`next_page(cursor)` gives one),
    answered as one page. A page that comes back empty leaves hasNextPage set, so the caller
    can tell the nodes are incomplete."""
    nodes = list(connection.get("nodes") or [])
    page_info = connection.get("pageInfo") or {}
    while page_info.get("hasNextPage"):
        page = next_page(page_info.get("endCursor"))
        if not isinstance(page, dict):
            return {"nodes": nodes, "pageInfo": page_info}
        nodes += page.get("nodes") or []
        page_info = page.get("pageInfo") or {}
    return {"nodes": nodes, "pageInfo": {"hasNextPage": False, "endCursor": page_info.get("endCursor")}}


def _count_of(counted) -> int | None:
    """ordersCount's count, when Shopify gave one."""
    if isinstance(counted, dict) and isinstance(counted.get("count"), int | Decimal):
        return int(counted["count"])
    return None


def _backfill_search(created_after: datetime.datetime | None) -> str:
    search = "financial_status:paid fulfillment_status:unfulfilled"
    if created_after is not None:
        search += f" created_at:>='{_shopify_time(created_after)}'"
    return search


def _shopify_time(moment: datetime.datetime) -> str:
    return f"{moment.astimezone(datetime.UTC):%Y-%m-%dT%H:%M:%SZ}"


def _would_throttle(cost: dict) -> bool:
    status = cost.get("throttleStatus") or {}
    requested = cost.get("requestedQueryCost") or 0
    return bool(status) and float(status.get("currentlyAvailable", requested)) < float(requested)


def _seconds_until_affordable(cost: dict) -> float:
    status = cost.get("throttleStatus") or {}
    requested = float(cost.get("requestedQueryCost") or 1)
    available = float(status.get("currentlyAvailable") or 0)
    restore_rate = float(status.get("restoreRate") or 50)
    return max(1.0, (requested - available) / restore_rate)


# --- orders ---------------------------------------------------------------------------


def _payment_method(gateways) -> str:
    names = " ".join(str(g).lower() for g in gateways or [])
    if "cash on delivery" in names or "cod" in names.split():
        return "cod"
    if "paypal" in names:
        return "paypal"
    if "gcash" in names:
        return "gcash"
    if "maya" in names or "paymaya" in names:
        return "maya"
    if "bank" in names:
        return "bank_transfer"
    if "shopify_payments" in names or "stripe" in names or "card" in names:
        return "card"
    return "other"


def _money_of(money_set) -> tuple:
    shop_money = (money_set or {}).get("shopMoney") or {}
    return shop_money.get("amount"), shop_money.get("currencyCode")


# A backfill reads some 30 values of each order through these: the common case (a string, an
# int) is answered before a call into incoming's general readers, which give the same result.
def _text(value) -> str:
    return value.strip() if value.__class__ is str else incoming.text(value)


def _quantity(value, what: str) -> int:
    return value if value.__class__ is int else incoming.quantity(value, what)


_ADDRESS_PARTS = ("address1", "address2", "city", "province", "zip", "country")


def order_from_graphql(node: dict) -> IncomingOrder:
    """An order node of the orders query; raises MalformedStoreOrder."""
    if not isinstance(node, dict):
        raise MalformedStoreOrder("The order is not an object.")
    get = node.get
    external_id = _text(get("legacyResourceId")) or _text(get("id")).rsplit("/", 1)[-1]
    if not external_id:
        raise MalformedStoreOrder("The order has no id.")
    financial = _text(get("displayFinancialStatus")).upper()
    fulfillment = _text(get("displayFulfillmentStatus")).upper()
    standing = _standing(
        cancelled=bool(get("cancelledAt")),
        paid=financial in ("PAID", "PARTIALLY_REFUNDED"),
        fulfilled=fulfillment in ("FULFILLED", "RESTOCKED"),
    )
    customer = get("customer") or {}
    address = get("shippingAddress") or {}
    line_items = get("lineItems") or {}
    if (line_items.get("pageInfo") or {}).get("hasNextPage"):
        raise MalformedStoreOrder(
            "Not all of the order's line items could be read; the next sync tries again."
        )
    lines = []
    for line in line_items.get("nodes") or []:
        title = _text(line.get("title"))
        price, _ = _money_of(line.get("originalUnitPriceSet"))
        lines.append(
            IncomingLine(
                sku=_text(line.get("sku")),
                title=title,
                variant_title=_text(line.get("variantTitle")),
                quantity=_quantity(line.get("quantity"), title or "an item"),
                unit_price=incoming.amount(price, f"price of {title or 'an item'}"),
            )
        )
    shipping_line = get("shippingLine") or {}
    shipping_fee, _ = _money_of(shipping_line.get("originalPriceSet"))
    discount, _ = _money_of(get("totalDiscountsSet"))
    return IncomingOrder(
        external_id=external_id,
        standing=standing,
        currency=_text(get("currencyCode")).upper(),
        customer_name=_customer_name(
            address, customer.get("firstName"), customer.get("lastName"), get("name"), external_id
        ),
        customer_phone=_text(address.get("phone") or get("phone") or customer.get("phone")),
        customer_email=_text(get("email") or customer.get("email")),
        shipping_address=_address_text(address),
        lines=tuple(lines),
        payment_method=_payment_method(get("paymentGatewayNames")),
        shipping_option=_text(shipping_line.get("title")),
        shipping_fee=incoming.amount(shipping_fee, "shipping fee"),
        discount=incoming.amount(discount, "discount"),
        note=_text(get("note")),
        placed_at=incoming.moment(get("createdAt")),
        updated_at=incoming.moment(get("updatedAt")),
        extra={"shopify_name": _text(get("name"))},
    )


def order_from_webhook(payload: dict) -> IncomingOrder:
    """An orders/* webhook body (the REST order shape); raises MalformedStoreOrder."""
    if not isinstance(payload, dict):
        raise MalformedStoreOrder("The order is not an object.")
    if payload.get("id") in (None, ""):
        raise MalformedStoreOrder("The order has no “id”.")
    if not isinstance(payload.get("line_items"), list):
        raise MalformedStoreOrder("The order has no “line_items” list.")
    external_id = incoming.text(payload.get("id"))
    standing = _standing(
        cancelled=bool(payload.get("cancelled_at")),
        paid=incoming.text(payload.get("financial_status")) in ("paid", "partially_refunded"),
        fulfilled=incoming.text(payload.get("fulfillment_status")) in ("fulfilled", "restocked"),
    )
    customer = payload.get("customer") or {}
    address = payload.get("shipping_address") or {}
    lines = []
    for line in payload["line_items"]:
        if not isinstance(line, dict):
            raise MalformedStoreOrder("An item of the order is not an object.")
        title = incoming.text(line.get("title") or line.get("name"))
        lines.append(
            IncomingLine(
                sku=incoming.text(line.get("sku")),
                title=title,
                variant_title=incoming.text(line.get("variant_title")),
                quantity=incoming.quantity(line.get("quantity"), title or "an item"),
                unit_price=incoming.amount(line.get("price"), f"price of {title or 'an item'}"),
            )
        )
    shipping_lines = [s for s in payload.get("shipping_lines") or [] if isinstance(s, dict)]
    return IncomingOrder(
        external_id=external_id,
        standing=standing,
        currency=incoming.text(payload.get("currency")).upper(),
        customer_name=_customer_name(
            address, customer.get("first_name"), customer.get("last_name"), payload.get("name"), external_id
        ),
        customer_phone=incoming.text(address.get("phone") or payload.get("phone") or customer.get("phone")),
        customer_email=incoming.text(payload.get("email") or customer.get("email")),
        shipping_address=_address_text(address),
        lines=tuple(lines),
        payment_method=_payment_method(payload.get("payment_gateway_names")),
        shipping_option=incoming.text(shipping_lines[0].get("title")) if shipping_lines else "",
        shipping_fee=sum(
            (incoming.amount(s.get("price"), "shipping fee") for s in shipping_lines), Decimal("0")
        ),
        discount=incoming.amount(payload.get("total_discounts"), "discount"),
        note=incoming.text(payload.get("note")),
        placed_at=incoming.moment(payload.get("created_at")),
        updated_at=incoming.moment(payload.get("updated_at")),
        extra={"shopify_name": incoming.text(payload.get("name"))},
    )


def _customer_name(address: dict, first_name, last_name, order_name, external_id: str) -> str:
    """The name on the shipping address, else the customer's, else one saying whose order it is."""
    whole = _text(address.get("name")) or " ".join(
        part for part in (_text(first_name), _text(last_name)) if part
    )
    return whole or f"Customer of order {_text(order_name) or external_id}"


def _address_text(address: dict) -> str:
    """A shipping address of either shape (GraphQL and REST name these fields alike)."""
    return ", ".join(part for part in [_text(address.get(name)) for name in _ADDRESS_PARTS] if part)


def _standing(*, cancelled: bool, paid: bool, fulfilled: bool) -> str:
    if cancelled:
        return IncomingOrder.Standing.CANCELLED
    if fulfilled:
        return IncomingOrder.Standing.FULFILLED
    if paid:
        return IncomingOrder.Standing.PAID
    return IncomingOrder.Standing.UNPAID
