"""Loopback doubles of the Shopify GraphQL Admin API and the WooCommerce REST API v3.

Each is an HTTP server in a thread that checks credentials the way the store does and
answers with payloads shaped like the store's documentation. `fail_next(...)`,
`stall_next(...)` and `throttle_next(...)` script faults for the next requests.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SHOPIFY_TOKEN = "shpat_0123456789abcdef0123456789abcdef"
WOO_KEY = "ck_0123456789abcdef0123456789abcdef01234567"
WOO_SECRET = "cs_0123456789abcdef0123456789abcdef01234567"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class StoreDouble:
    """Base: records requests, plays scripted faults, else asks `answer(request)`."""

    def __init__(self):
        self.requests: list[Seen] = []
        self._script: list[tuple] = []
        self._lock = threading.Lock()
        double = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self, method):
                length = int(self.headers.get("Content-Length", 0) or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                seen = Seen(
                    method=method,
                    path=parts.path,
                    query={k: v[0] for k, v in parse_qs(parts.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                with double._lock:
                    double.requests.append(seen)
                    scripted = double._script.pop(0) if double._script else None
                if scripted and scripted[0] == "fail":
                    return self._reply(scripted[1], scripted[2], scripted[3])
                if scripted and scripted[0] == "stall":
                    time.sleep(scripted[1])
                status, payload, headers = double.answer(seen, scripted)
                self._reply(status, payload, headers)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def _reply(self, status, payload, headers=None):
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, status: int, payload, headers: dict | None = None):
        self._script.append(("fail", status, payload, headers or {}))

    def stall_next(self, seconds: float):
        self._script.append(("stall", seconds))

    def answer(self, request: Seen, scripted) -> tuple[int, object, dict]:
        raise NotImplementedError


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
    """POST /admin/api/<version>/graphql.json with X-Shopify-Access-Token; cursor pages of `orders`."""

    page_size_cap = 250

    def __init__(self, orders: list[dict] | None = None, *, token: str = SHOPIFY_TOKEN):
        super().__init__()
        self.orders = list(orders or [])
        self.token = token
        self.currently_available = 1000.0

    def throttle_next(self):
        """The next query is refused with a THROTTLED error and an empty bucket."""
        self._script.append(("throttled",))

    def queries(self) -> list[dict]:
        return [json.loads(r.body) for r in self.requests if r.method == "POST" and r.body]

    def answer(self, request, scripted):
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
        cost = {
            "requestedQueryCost": 52,
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
        start = int(base64.b64decode(variables["after"]).decode()) if variables.get("after") else 0
        first = min(int(variables.get("first", 50)), self.page_size_cap)
        page = chosen[start : start + first]
        end = start + len(page)
        data = {
            "orders": {
                "nodes": page,
                "pageInfo": {
                    "hasNextPage": end < len(chosen),
                    "endCursor": base64.b64encode(str(end).encode()).decode() if page else None,
                },
            }
        }
        return 200, {"data": data, "extensions": {"cost": cost}}, {}

    def _matching(self, search: str) -> list[dict]:
        chosen = self.orders
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

    def answer(self, request, scripted):
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
