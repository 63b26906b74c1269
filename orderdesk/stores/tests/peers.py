"""Loopback doubles of the Shopify GraphQL Admin API and the WooCommerce REST API v3.

Each is an HTTP server in a thread that checks credentials the way the store does and
answers with payloads shaped like the store's documentation. `fail_next(...)`,
`stall_next(...)` and `throttle_next(...)` script faults for the next requests.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator

from orderdesk.testing.http_double import HttpDouble

from .graphql_cost import MAX_QUERY_COST, first_of, parse, requested_cost

SHOPIFY_TOKEN = "shpat_0123456789abcdef0123456789abcdef"
WOO_KEY = "ck_0123456789abcdef0123456789abcdef01234567"
WOO_SECRET = "cs_0123456789abcdef0123456789abcdef01234567"


class StoreDouble(HttpDouble):
    """Base of the store doubles (the shared loopback server with its scripted faults)."""


# --- Shopify ---------------------------------------------------------------------------


def money_set(amount: str, currency: str = "PHP") -> dict:
    return {"shopMoney": {"amount": amount, "currencyCode": currency}}


def shopify_node(number: int, **overrides) -> dict:
    """An order node as the GraphQL Admin API's orders query returns it."""
    node = {
        "id": f"gid://shopify/Order/{number}",
        "legacyResourceId": str(number),
        "name": f"#{number}",
        "createdAt": "2026-11-20T08:00:00Z",
        "updatedAt": "2026-11-20T08:05:00Z",
        "cancelledAt": None,
        "displayFinancialStatus": "PAID",
        "displayFulfillmentStatus": "UNFULFILLED",
        "email": f"buyer{number}@example.com",
        "phone": None,
        "note": "",
        "currencyCode": "PHP",
        "paymentGatewayNames": ["shopify_payments"],
        "customer": {
            "firstName": "Rosa",
            "lastName": "Reyes",
            "email": f"buyer{number}@example.com",
            "phone": None,
        },
        "shippingAddress": {
            "name": "Rosa Reyes",
            "address1": "5 Rizal Ave",
            "address2": "",
            "city": "Quezon City",
            "province": "Metro Manila",
            "zip": "1100",
            "country": "Philippines",
            "phone": "+63 917 555 0199",
        },
        "shippingLine": {"title": "J&T Express", "originalPriceSet": money_set("120.00")},
        "totalDiscountsSet": money_set("0.00"),
        "lineItems": {
            "nodes": [
                {
                    "sku": "LS-M",
                    "title": "Linen shirt",
                    "variantTitle": "M",
                    "quantity": 2,
                    "originalUnitPriceSet": money_set("799.00"),
                },
                {
                    "sku": "CT-1",
                    "title": "Canvas tote",
                    "variantTitle": None,
                    "quantity": 1,
                    "originalUnitPriceSet": money_set("350.50"),
                },
            ]
        },
    }
    node.update(overrides)
    return node


def shopify_webhook_order(number: int, **overrides) -> dict:
    """An orders/* webhook body: the REST order shape Shopify still sends."""
    order = {
        "id": number,
        "admin_graphql_api_id": f"gid://shopify/Order/{number}",
        "name": f"#{number}",
        "email": f"buyer{number}@example.com",
        "created_at": "2026-11-20T16:00:00+08:00",
        "updated_at": "2026-11-20T16:05:00+08:00",
        "cancelled_at": None,
        "financial_status": "paid",
        "fulfillment_status": None,
        "currency": "PHP",
        "total_discounts": "0.00",
        "note": None,
        "phone": None,
        "payment_gateway_names": ["shopify_payments"],
        "customer": {"first_name": "Rosa", "last_name": "Reyes", "email": f"buyer{number}@example.com"},
        "shipping_address": {
            "name": "Rosa Reyes",
            "address1": "5 Rizal Ave",
            "address2": None,
            "city": "Quezon City",
            "province": "Metro Manila",
            "zip": "1100",
            "country": "Philippines",
            "phone": "+63 917 555 0199",
        },
        "shipping_lines": [{"title": "J&T Express", "price": "120.00"}],
        "line_items": [
            {"sku": "LS-M", "title": "Linen shirt", "variant_title": "M", "quantity": 2, "price": "799.00"},
            {"sku": "CT-1", "title": "Canvas tote", "variant_title": None, "quantity": 1, "price": "350.50"},
        ],
    }
    order.update(overrides)
    return order


class ShopifyDouble(StoreDouble):
    """POST /admin/api/<version>/graphql.json with X-Shopify-Access-Token; cursor pages of `orders`
    and of nested line items, as big as the query's `first` arguments ask. A query whose
    requested cost (graphql_cost.py) is over 1,000 points is refused with MAX_COST_EXCEEDED."""

    page_size_cap = 250

    def __init__(self, orders: list[dict] | None = None, *, token: str = SHOPIFY_TOKEN):
        super().__init__()
        self.orders = list(orders or [])
        self.token = token
        self.currently_available = 1000.0
        # Fulfillment orders by order id, made from the order's line items when first asked for.
        self.fulfillment_orders: dict[str, list[dict]] = {}
        # Each fulfillmentCreate that succeeded: its input and the fulfillment's id.
        self.fulfillments: list[dict] = []
        # Whether the app was granted the fulfillment order scopes (tracking back to the store).
        self.may_fulfill = True
        # Bulk operations (bulkOperationRunQuery, currentBulkOperation, the JSONL file): each
        # operation asked for, newest last. An operation runs for `bulk_polls_to_finish` polls of
        # currentBulkOperation, then ends as `bulk_outcome` says: ("COMPLETED", None),
        # ("FAILED", errorCode) or ("CANCELED", None). `bulk_busy_polls` > 0: another bulk query
        # of the app is running for that many polls (bulkOperationRunQuery says so meanwhile).
        # `bulk_file_expired`: the file's link answers 403 as an expired signed URL does.
        # `bulk_lines(lines)` may reorder the file's lines (line items far from their order).
        self.bulk_operations: list[dict] = []
        self.bulk_polls_to_finish = 2
        self.bulk_outcome: tuple[str, str | None] = ("COMPLETED", None)
        self.bulk_busy_polls = 0
        self.bulk_file_expired = False
        self.bulk_lines = None
        # The app lacks what bulk operations need: bulkOperationRunQuery is refused as a whole.
        self.bulk_access_denied = False
        # The files of completed operations (by name): the search each was made of.
        self.bulk_files: dict[str, str] = {}

    def throttle_next(self):
        """The next query is refused with a THROTTLED error and an empty bucket."""
        self.script("throttled")

    def queries(self) -> list[dict]:
        return [json.loads(r.body) for r in self.requests if r.method == "POST" and r.body]

    def answer(self, request):
        scripted = request.scripted
        if request.path.startswith("/bulk-files/"):
            return self._bulk_file(request.path.removeprefix("/bulk-files/"))
        if not request.path.startswith("/admin/api/") or not request.path.endswith("/graphql.json"):
            return 404, {"errors": "Not Found"}, {}
        if request.headers.get("x-shopify-access-token") != self.token:
            return (
                401,
                {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
                {},
            )
        document = json.loads(request.body)
        query, variables = document["query"], document.get("variables") or {}
        requested = requested_cost(query, variables)
        if requested > MAX_QUERY_COST:
            return (
                200,
                {
                    "errors": [
                        {
                            "message": f"Query cost is {requested}, which exceeds the single query max "
                            f"cost limit ({MAX_QUERY_COST}).",
                            "extensions": {
                                "code": "MAX_COST_EXCEEDED",
                                "cost": requested,
                                "maxCost": MAX_QUERY_COST,
                                "documentation": "https://shopify.dev/api/usage/rate-limits",
                            },
                        }
                    ]
                },
                {},
            )
        operation = parse(query)
        cost = {
            "requestedQueryCost": requested,
            "actualQueryCost": 12,
            "throttleStatus": {
                "maximumAvailable": 2000.0,
                "currentlyAvailable": self.currently_available,
                "restoreRate": 100.0,
            },
        }
        if scripted and scripted[0] == "throttled":
            cost["throttleStatus"]["currentlyAvailable"] = 0.0
            return (
                200,
                {
                    "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                    "extensions": {"cost": cost},
                },
                {},
            )
        if ("fulfillmentCreate" in query or "fulfillmentOrders" in query) and not self.may_fulfill:
            field = "fulfillmentCreate" if "fulfillmentCreate" in query else "fulfillmentOrders"
            return (
                200,
                {
                    "errors": [
                        {
                            "message": f"Access denied for {field} field. Required access: "
                            "`read_merchant_managed_fulfillment_orders` access scope.",
                            "locations": [{"line": 4, "column": 5}],
                            "extensions": {
                                "code": "ACCESS_DENIED",
                                "documentation": "https://shopify.dev/api/usage/access-scopes",
                                "requiredAccess": "`read_merchant_managed_fulfillment_orders` access scope.",
                            },
                        }
                    ],
                    "data": {"order": None},
                    "extensions": {"cost": cost},
                },
                {},
            )
        if "fulfillmentCreate" in query:
            return 200, {"data": self._fulfillment_create(variables), "extensions": {"cost": cost}}, {}
        if "bulkOperationCancel" in query:
            with self._lock:
                wanted = next((op for op in self.bulk_operations if op["id"] == variables.get("id")), None)
                if wanted is not None and wanted["status"] in ("CREATED", "RUNNING"):
                    wanted["status"] = "CANCELED"
            data = {
                "bulkOperationCancel": {
                    "bulkOperation": {"id": wanted["id"], "status": "CANCELING"} if wanted else None,
                    "userErrors": []
                    if wanted
                    else [{"field": ["id"], "message": "Bulk operation does not exist"}],
                }
            }
            return 200, {"data": data, "extensions": {"cost": cost}}, {}
        if "bulkOperationRunQuery" in query and self.bulk_access_denied:
            return (
                200,
                {
                    "errors": [
                        {
                            "message": "Access denied for bulkOperationRunQuery field.",
                            "extensions": {"code": "ACCESS_DENIED"},
                        }
                    ],
                    "data": {"bulkOperationRunQuery": None},
                    "extensions": {"cost": cost},
                },
                {},
            )
        if "bulkOperationRunQuery" in query:
            return 200, {"data": self._bulk_run(variables), "extensions": {"cost": cost}}, {}
        if "currentBulkOperation" in query:
            return 200, {"data": self._current_bulk_operation(), "extensions": {"cost": cost}}, {}
        if operation.root("node") is not None and "BulkOperation" in query:
            wanted = next((op for op in self.bulk_operations if op["id"] == variables.get("id")), None)
            node = None
            if wanted is not None:
                node = {
                    "id": wanted["id"],
                    "status": wanted["status"],
                    "errorCode": wanted.get("errorCode"),
                    "objectCount": str(wanted.get("orders", 0)),
                    "rootObjectCount": str(wanted.get("orders", 0)),
                    "url": wanted.get("url"),
                    "partialDataUrl": None,
                }
            return 200, {"data": {"node": node}, "extensions": {"cost": cost}}, {}
        order = operation.root("order")
        if "fulfillmentOrders" in query:
            data = self._order_fulfillment_orders(order.child("fulfillmentOrders"), variables)
            return 200, {"data": data, "extensions": {"cost": cost}}, {}
        if operation.root("fulfillmentOrder"):
            data = self._fulfillment_order_line_items(operation.root("fulfillmentOrder"), variables)
            return 200, {"data": data, "extensions": {"cost": cost}}, {}
        if order is not None:
            return 200, {"data": self._order_line_items(order, variables), "extensions": {"cost": cost}}, {}
        if "shop {" in query:
            return (
                200,
                {
                    "data": {"shop": {"name": "Lakbay Crafts", "currencyCode": "PHP"}},
                    "extensions": {"cost": cost},
                },
                {},
            )
        chosen = self._matching(variables.get("query") or "")
        orders = operation.root("orders")
        if orders is None and operation.root("ordersCount") is not None:
            data = {"ordersCount": {"count": len(chosen), "precision": "EXACT"}}
            return 200, {"data": data, "extensions": {"cost": cost}}, {}
        first = min(first_of(orders, variables), self.page_size_cap)
        data = {"orders": _page(chosen, first, variables.get("after"))}
        lines = orders.child("nodes").child("lineItems")
        if lines is not None:
            first_lines = first_of(lines, variables)
            data["orders"]["nodes"] = [
                {**node, "lineItems": _page(node["lineItems"]["nodes"], first_lines, None)}
                if isinstance(node, dict) and isinstance(node.get("lineItems"), dict)
                else node
                for node in data["orders"]["nodes"]
            ]
        if variables.get("withCount"):
            data["ordersCount"] = {"count": len(chosen), "precision": "EXACT"}
        return 200, {"data": data, "extensions": {"cost": cost}}, {}

    def fulfillment_orders_of(self, order_id: str) -> list[dict]:
        """The order's fulfillment orders (one per location: here one, at the shop's only location)."""
        if order_id not in self.fulfillment_orders:
            node = next(
                (o for o in self.orders if isinstance(o, dict) and o.get("legacyResourceId") == order_id),
                None,
            )
            if node is None:
                return []
            items = [
                {
                    "id": f"gid://shopify/FulfillmentOrderLineItem/{order_id}{index:02d}",
                    "totalQuantity": item["quantity"],
                    "remainingQuantity": item["quantity"],
                    "lineItem": {"sku": item.get("sku"), "name": item["title"]},
                }
                for index, item in enumerate(node["lineItems"]["nodes"], start=1)
            ]
            self.fulfillment_orders[order_id] = [
                {
                    "id": f"gid://shopify/FulfillmentOrder/{order_id}01",
                    "status": "OPEN",
                    "assignedLocation": {"name": "Shop location"},
                    "lineItems": {"nodes": items},
                }
            ]
        return self.fulfillment_orders[order_id]

    def _order_fulfillment_orders(self, asked, variables: dict) -> dict:
        order_id = str(variables.get("id", "")).rsplit("/", 1)[-1]
        orders = self.fulfillment_orders_of(order_id)
        if not orders:
            return {"order": None}
        page = _page(orders, first_of(asked, variables), variables.get("after"))
        lines = asked.child("nodes").child("lineItems")
        first_lines = first_of(lines, variables)
        page["nodes"] = [
            {**fo, "lineItems": _page(fo["lineItems"]["nodes"], first_lines, None)} for fo in page["nodes"]
        ]
        return {"order": {"id": f"gid://shopify/Order/{order_id}", "fulfillmentOrders": page}}

    def _fulfillment_order_line_items(self, asked, variables: dict) -> dict:
        """fulfillmentOrder(id) { lineItems(first:, after:) }: the rest of its items."""
        wanted = variables.get("id")
        found = next(
            (fo for fos in self.fulfillment_orders.values() for fo in fos if fo["id"] == wanted), None
        )
        if found is None:
            return {"fulfillmentOrder": None}
        lines = asked.child("lineItems")
        page = _page(found["lineItems"]["nodes"], first_of(lines, variables), variables.get("after"))
        return {"fulfillmentOrder": {"id": found["id"], "lineItems": page}}

    def _order_line_items(self, asked, variables: dict) -> dict:
        """order(id) { lineItems(first:, after:) }: the rest of an order's line items."""
        order_id = str(variables.get("id", "")).rsplit("/", 1)[-1]
        node = next(
            (o for o in self.orders if isinstance(o, dict) and o.get("legacyResourceId") == order_id), None
        )
        if node is None:
            return {"order": None}
        lines = asked.child("lineItems")
        page = _page(node["lineItems"]["nodes"], first_of(lines, variables), variables.get("after"))
        return {"order": {"id": node["id"], "lineItems": page}}

    def _fulfillment_create(self, variables: dict) -> dict:
        """fulfillmentCreate(fulfillment: FulfillmentInput!): its items fulfilled, or userErrors."""
        fulfillment = variables.get("fulfillment") or {}

        def refused(message: str) -> dict:
            return {
                "fulfillmentCreate": {
                    "fulfillment": None,
                    "userErrors": [{"field": ["fulfillment"], "message": message}],
                }
            }

        by_id = {fo["id"]: fo for orders in self.fulfillment_orders.values() for fo in orders}
        taken = []
        for entry in fulfillment.get("lineItemsByFulfillmentOrder") or []:
            order = by_id.get(entry.get("fulfillmentOrderId"))
            if order is None:
                return refused("Fulfillment order does not exist.")
            if order["status"] not in ("OPEN", "IN_PROGRESS"):
                return refused("Fulfillment order is not in an actionable state.")
            items = {item["id"]: item for item in order["lineItems"]["nodes"]}
            wanted = entry.get("fulfillmentOrderLineItems")
            if not wanted:
                wanted = [
                    {"id": i["id"], "quantity": i["remainingQuantity"]}
                    for i in items.values()
                    if i["remainingQuantity"]
                ]
            for item in wanted:
                line = items.get(item.get("id"))
                if line is None:
                    return refused("Fulfillment order line item does not exist.")
                if not 0 < int(item.get("quantity", 0)) <= line["remainingQuantity"]:
                    return refused("Invalid fulfillment order line item quantity requested.")
                taken.append((order, line, int(item["quantity"])))
        if not taken:
            return refused("Line items by fulfillment order must not be empty.")
        for _order, line, quantity in taken:
            line["remainingQuantity"] -= quantity
        for order in {id(o): o for o, _line, _q in taken}.values():
            if all(i["remainingQuantity"] == 0 for i in order["lineItems"]["nodes"]):
                order["status"] = "CLOSED"
            else:
                order["status"] = "IN_PROGRESS"
        fulfillment_id = f"gid://shopify/Fulfillment/{9000 + len(self.fulfillments) + 1}"
        tracking = fulfillment.get("trackingInfo") or {}
        self.fulfillments.append({"id": fulfillment_id, "input": fulfillment})
        return {
            "fulfillmentCreate": {
                "fulfillment": {
                    "id": fulfillment_id,
                    "status": "SUCCESS",
                    "trackingInfo": [
                        {
                            "company": tracking.get("company"),
                            "number": tracking.get("number"),
                            "url": tracking.get("url"),
                        }
                    ],
                },
                "userErrors": [],
            }
        }

    def _bulk_run(self, variables: dict) -> dict:
        """bulkOperationRunQuery(query:): starts an operation of the orders query it carries,
        or refuses while another bulk query of the app runs."""
        with self._lock:
            running = self.bulk_busy_polls > 0 or any(
                op["status"] in ("CREATED", "RUNNING") for op in self.bulk_operations
            )
            if running:
                return {
                    "bulkOperationRunQuery": {
                        "bulkOperation": None,
                        "userErrors": [
                            {
                                "field": None,
                                "message": "A bulk query operation for this app and shop is already in "
                                "progress: gid://shopify/BulkOperation/1.",
                                "code": "OPERATION_IN_PROGRESS",
                            }
                        ],
                    }
                }
            bulk_query = str(variables.get("query") or "")
            found = re.search(r'orders\(query: ("(?:[^"\\]|\\.)*")', bulk_query)
            search = json.loads(found.group(1)) if found else ""
            number = 5000 + len(self.bulk_operations) + 1
            operation = {
                "id": f"gid://shopify/BulkOperation/{number}",
                "status": "CREATED",
                "query": bulk_query,
                "search": search,
                "polls": 0,
            }
            self.bulk_operations.append(operation)
        return {
            "bulkOperationRunQuery": {
                "bulkOperation": {"id": operation["id"], "status": "CREATED"},
                "userErrors": [],
            }
        }

    def _current_bulk_operation(self) -> dict:
        with self._lock:
            if self.bulk_busy_polls > 0:
                self.bulk_busy_polls -= 1
                return {
                    "currentBulkOperation": {
                        "id": "gid://shopify/BulkOperation/1",
                        "status": "RUNNING",
                        "errorCode": None,
                        "objectCount": "10",
                        "rootObjectCount": "5",
                        "url": None,
                        "partialDataUrl": None,
                    }
                }
            if not self.bulk_operations:
                return {"currentBulkOperation": None}
            operation = self.bulk_operations[-1]
            operation["polls"] += 1
            if operation["status"] in ("CREATED", "RUNNING"):
                if operation["polls"] < self.bulk_polls_to_finish:
                    operation["status"] = "RUNNING"
                else:
                    operation["status"], operation["errorCode"] = self.bulk_outcome
                    if operation["status"] == "COMPLETED":
                        self._write_bulk_file(operation)
            return {
                "currentBulkOperation": {
                    "id": operation["id"],
                    "status": operation["status"],
                    "errorCode": operation.get("errorCode"),
                    "objectCount": str(operation.get("orders", 0)),
                    "rootObjectCount": str(operation.get("orders", 0)),
                    "url": operation.get("url"),
                    "partialDataUrl": None,
                }
            }

    def _write_bulk_file(self, operation: dict) -> None:
        """The operation's result: its file's link (none when nothing was found)."""
        chosen = self._matching(operation["search"])
        operation["orders"] = len(chosen)
        if len(chosen):
            name = operation["id"].rsplit("/", 1)[-1] + ".jsonl"
            self.bulk_files[name] = operation["search"]
            operation["url"] = f"{self.base_url}/bulk-files/{name}?X-Goog-Signature=abc"

    def _bulk_lines_of(self, chosen) -> Iterator[object]:
        """The JSONL's objects: each order without its line items, then each of its line items
        with __parentId. Read in slices (the bench's orders are made as they are asked for)."""
        for start in range(0, len(chosen), 500):
            for node in chosen[start : start + 500]:
                if not isinstance(node, dict):
                    yield node
                    continue
                yield {k: v for k, v in node.items() if k != "lineItems"}
                for index, item in enumerate((node.get("lineItems") or {}).get("nodes") or [], start=1):
                    yield {
                        "id": f"gid://shopify/LineItem/{node['legacyResourceId']}{index:03d}",
                        **item,
                        "__parentId": node["id"],
                    }

    def _bulk_file(self, name: str):
        """The JSONL file at its signed link (no access token: it is file storage, not the API),
        streamed as it is made."""
        if self.bulk_file_expired:
            return (
                403,
                b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>ExpiredToken</Code>"
                b"<Message>The provided token has expired.</Message></Error>",
                {},
            )
        search = self.bulk_files.get(name)
        if search is None:
            return 404, b"<Error><Code>NoSuchKey</Code></Error>", {}
        lines = self._bulk_lines_of(self._matching(search))
        if self.bulk_lines:
            lines = iter(self.bulk_lines(list(lines)))

        def chunks():
            batch = []
            for line in lines:
                batch.append(json.dumps(line, default=str))
                if len(batch) >= 1000:
                    yield ("\n".join(batch) + "\n").encode()
                    batch = []
            if batch:
                yield ("\n".join(batch) + "\n").encode()

        return 200, chunks(), {"Content-Type": "application/jsonl"}

    def _matching(self, search: str) -> list[dict]:
        chosen = self.orders
        ids = set(re.findall(r"(?:^|\s)id:(\d+)", search))
        if ids:
            chosen = [o for o in chosen if isinstance(o, dict) and o.get("legacyResourceId") in ids]
        if "updated_at:>=" in search:
            since = search.split("updated_at:>=")[1].strip("'\" ").split("'")[0]
            chosen = [o for o in chosen if isinstance(o, dict) and o.get("updatedAt", "") >= since]
        if "financial_status:paid" in search:
            chosen = [
                o
                for o in chosen
                if not isinstance(o, dict)
                or (
                    o.get("displayFinancialStatus") == "PAID"
                    and o.get("displayFulfillmentStatus") == "UNFULFILLED"
                )
            ]
        return chosen


def _page(items: list, first: int, after: str | None) -> dict:
    """A connection's page of `first` items after the cursor (an offset, base64 as Shopify's are opaque)."""
    start = int(base64.b64decode(after).decode()) if after else 0
    page = items[start : start + first]
    end = start + len(page)
    return {
        "nodes": page,
        "pageInfo": {
            "hasNextPage": end < len(items),
            "endCursor": base64.b64encode(str(end).encode()).decode() if page else None,
        },
    }


# --- WooCommerce -------------------------------------------------------------------------


def woo_order(number: int, **overrides) -> dict:
    """An order as GET /wp-json/wc/v3/orders returns it (and order.* webhooks send it)."""
    order = {
        "id": number,
        "number": str(number),
        "status": "processing",
        "currency": "PHP",
        "date_created": "2026-11-20T16:00:00",
        "date_created_gmt": "2026-11-20T08:00:00",
        "date_modified": "2026-11-20T16:05:00",
        "date_modified_gmt": "2026-11-20T08:05:00",
        "discount_total": "0.00",
        "shipping_total": "120.00",
        "total": "2068.50",
        "customer_note": "",
        "billing": {
            "first_name": "Rosa",
            "last_name": "Reyes",
            "address_1": "5 Rizal Ave",
            "address_2": "",
            "city": "Quezon City",
            "state": "Metro Manila",
            "postcode": "1100",
            "country": "PH",
            "email": f"buyer{number}@example.com",
            "phone": "09175550199",
        },
        "shipping": {
            "first_name": "Rosa",
            "last_name": "Reyes",
            "address_1": "5 Rizal Ave",
            "address_2": "",
            "city": "Quezon City",
            "state": "Metro Manila",
            "postcode": "1100",
            "country": "PH",
            "phone": "",
        },
        "payment_method": "cod",
        "payment_method_title": "Cash on delivery",
        "line_items": [
            {
                "id": 1,
                "name": "Linen shirt - M",
                "sku": "LS-M",
                "quantity": 2,
                "subtotal": "1598.00",
                "total": "1598.00",
                "price": 799,
                "meta_data": [],
            },
            {
                "id": 2,
                "name": "Canvas tote",
                "sku": "CT-1",
                "quantity": 1,
                "subtotal": "350.50",
                "total": "350.50",
                "price": 350.5,
                "meta_data": [],
            },
        ],
        "shipping_lines": [
            {"id": 3, "method_title": "J&T Express", "method_id": "flat_rate", "total": "120.00"}
        ],
    }
    order.update(overrides)
    return order


class WooCommerceDouble(StoreDouble):
    """GET /wp-json/wc/v3/orders with basic auth; page pagination with X-WP-Total(Pages)."""

    def __init__(self, orders: list[dict] | None = None, *, key: str = WOO_KEY, secret: str = WOO_SECRET):
        super().__init__()
        self.orders = list(orders or [])
        self.key, self.secret = key, secret
        # Order notes by order id, as POST /orders/<id>/notes created them.
        self.notes: dict[int, list[dict]] = {}

    def answer(self, request):
        expected = "Basic " + base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return (
                401,
                {
                    "code": "woocommerce_rest_cannot_view",
                    "message": "Sorry, you cannot list resources.",
                    "data": {"status": 401},
                },
                {},
            )
        one_order = _WOO_ORDER.match(request.path)
        if one_order:
            return self._one_order(request, int(one_order["id"]), one_order["notes"])
        if request.path != "/wp-json/wc/v3/orders":
            return (
                404,
                {
                    "code": "rest_no_route",
                    "message": "No route was found matching the URL and request method.",
                    "data": {"status": 404},
                },
                {},
            )
        chosen = self.orders
        if "status" in request.query:
            chosen = [
                o for o in chosen if not isinstance(o, dict) or o.get("status") == request.query["status"]
            ]
        if "modified_after" in request.query:
            since = request.query["modified_after"]
            chosen = [o for o in chosen if isinstance(o, dict) and o.get("date_modified_gmt", "") >= since]
        per_page = int(request.query.get("per_page", 10))
        page = int(request.query.get("page", 1))
        total_pages = max(1, -(-len(chosen) // per_page))
        body = chosen[(page - 1) * per_page : page * per_page]
        return 200, body, {"X-WP-Total": str(len(chosen)), "X-WP-TotalPages": str(total_pages)}

    def _one_order(self, request, order_id: int, notes: str | None):
        order = next((o for o in self.orders if isinstance(o, dict) and o.get("id") == order_id), None)
        if order is None:
            return (
                404,
                {
                    "code": "woocommerce_rest_shop_order_invalid_id",
                    "message": "Invalid ID.",
                    "data": {"status": 404},
                },
                {},
            )
        if notes and request.method == "POST":
            fields = request.json()
            if not str(fields.get("note") or "").strip():
                return (
                    400,
                    {
                        "code": "rest_missing_callback_param",
                        "message": "Missing parameter(s): note",
                        "data": {"status": 400, "params": ["note"]},
                    },
                    {},
                )
            with self._lock:
                note = {
                    "id": 700 + sum(len(n) for n in self.notes.values()) + 1,
                    "author": "system",
                    "date_created": "2026-11-24T10:00:00",
                    "date_created_gmt": "2026-11-24T02:00:00",
                    "note": fields["note"],
                    "customer_note": bool(fields.get("customer_note", False)),
                }
                self.notes.setdefault(order_id, []).append(note)
            return 201, note, {}
        if notes:
            return 200, list(reversed(self.notes.get(order_id, []))), {}
        if request.method == "PUT":
            fields = request.json()
            if "status" in fields:
                order["status"] = fields["status"]
            return 200, order, {}
        return 200, order, {}


# /wp-json/wc/v3/orders/<id> and /wp-json/wc/v3/orders/<id>/notes
_WOO_ORDER = re.compile(r"^/wp-json/wc/v3/orders/(?P<id>\d+)(?P<notes>/notes)?/?$")
