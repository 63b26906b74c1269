"""The load test's users (run by loadtest/run.py; never imported by Django or pytest).

- Merchants take awaiting orders one at a time from the plan: verify the payment, dispatch
  with a photo, then fulfill (sometimes double-submitted) or cancel, over the web pages.
- A Shopify store sends signed orders/paid webhooks for new orders, some twice.
- API clients create orders with an Idempotency-Key, some retried with the same key.
- Customers open tracking pages.

Every request is written to the journal (one JSON object a line) with what it was meant to do
and what it was answered, for the checker (loadtest/check.py).
"""

from __future__ import annotations

import io
import itertools
import json
import os
import random
import time
import uuid
from pathlib import Path

import gevent
from locust import HttpUser, between, events, task
from locust.exception import StopUser
from PIL import Image

PLAN = json.loads(Path(os.environ["LOADTEST_PLAN"]).read_text())
JOURNAL = open(os.environ["LOADTEST_JOURNAL"], "a", buffering=1)  # noqa: SIM115 — open for the whole run
MAX_REQUESTS = int(os.environ.get("LOADTEST_MAX_REQUESTS", "100000"))

# Orders still awaiting payment, handed to one merchant user each (gevent: one process, no races).
awaiting_orders = list(PLAN["awaiting_order_ids"])
random.shuffle(awaiting_orders)
requests_made = itertools.count(1)
webhook_numbers = itertools.count(PLAN["first_shopify_order_number"])


def _photo() -> bytes:
    image = Image.new("RGB", (320, 240), (190, 120, 60))
    encoded = io.BytesIO()
    image.save(encoded, format="JPEG", quality=80)
    return encoded.getvalue()


PHOTO = _photo()


def journal(**entry) -> None:
    JOURNAL.write(json.dumps(entry) + "\n")


class JournaledUser(HttpUser):
    abstract = True
    wait_time = between(0.1, 0.6)

    def call(
        self, kind: str, method: str, path: str, *, meant: dict | None = None, **kwargs
    ) -> tuple[int, dict]:
        """One request, journaled; only a 5xx or a broken connection counts as a failure."""
        if next(requests_made) > MAX_REQUESTS:
            raise StopUser()
        started = time.time()
        with self.client.request(
            method, path, name=kind, catch_response=True, allow_redirects=False, **kwargs
        ) as response:
            status = response.status_code or 0
            if status >= 500 or status == 0:
                response.failure(f"{status}")
            else:
                response.success()
            try:
                body = response.json() if "json" in response.headers.get("Content-Type", "") else {}
            except ValueError:
                body = {}
            journal(
                kind=kind,
                status=status,
                ms=round((time.time() - started) * 1000, 1),
                at=started,
                location=response.headers.get("Location", ""),
                body=body if isinstance(body, dict) else {},
                request_id=response.headers.get("X-Request-ID", ""),
                **(meant or {}),
            )
            return status, body


class Merchant(JournaledUser):
    weight = 3

    def on_start(self):
        self.client.headers.update(
            {
                "Cookie": f"{PLAN['session_cookie_name']}={PLAN['session_key']}; "
                f"{PLAN['csrf_cookie_name']}={PLAN['csrf_token']}",
                "X-CSRFToken": PLAN["csrf_token"],
                "X-Forwarded-Proto": "https",
                # Behind the (pretend) TLS proxy, Django checks the Referer against the host.
                "Referer": self.host.replace("http://", "https://") + "/orders/",
            }
        )

    def post_action(self, kind: str, order_id: int, path: str, data: dict, **kwargs) -> bool:
        """A page action; accepted when it redirects to `next` (a refusal redirects to the order)."""
        done = f"/orders/?done={kind}-{order_id}"
        status, _ = self.call(
            kind, "POST", path, data={**data, "next": done}, meant={"order_id": order_id}, **kwargs
        )
        return status == 302

    @task(5)
    def work_one_order(self):
        if not awaiting_orders:
            self.call("tracking list", "GET", "/orders/")
            return
        order_id = awaiting_orders.pop()
        self.call("order page", "GET", f"/orders/{order_id}/", meant={"order_id": order_id})
        if not self.post_action("verify payment", order_id, f"/orders/{order_id}/verify-payment/", {}):
            return
        expected_on = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 3 * 86400))
        if not self.post_action(
            "dispatch with photo",
            order_id,
            f"/orders/{order_id}/dispatch/",
            {"delivery_reference": f"JT{order_id}", "expected_on": expected_on, "message": ""},
            files={"photos": ("parcel.jpg", PHOTO, "image/jpeg")},
        ):
            return
        if random.random() < 0.3:
            self.post_action("cancel", order_id, f"/orders/{order_id}/cancel/", {"reason": "Out of stock"})
            return
        if random.random() < 0.3:
            # A double tap: two fulfills of one order at once; one may win, never both.
            both = [
                gevent.spawn(
                    self.post_action, "fulfill", order_id, f"/orders/{order_id}/fulfill/", {"remarks": ""}
                )
                for _ in range(2)
            ]
            gevent.joinall(both)
        else:
            self.post_action("fulfill", order_id, f"/orders/{order_id}/fulfill/", {"remarks": ""})

    @task(1)
    def look_at_the_list(self):
        self.call("tracking list", "GET", "/orders/")


class Store(JournaledUser):
    weight = 1

    @task
    def send_a_paid_order(self):
        number = next(webhook_numbers)
        body = json.dumps(shopify_order(number)).encode()
        webhook_id = str(uuid.uuid4())
        times = 2 if random.random() < 0.3 else 1
        for attempt in range(times):
            self.call(
                "store webhook" if attempt == 0 else "store webhook again",
                "POST",
                PLAN["shopify_webhook_path"],
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Shopify-Hmac-Sha256": sign(body),
                    "X-Shopify-Topic": "orders/paid",
                    "X-Shopify-Webhook-Id": webhook_id,
                },
                meant={"shopify_order": number, "webhook_id": webhook_id},
            )


class ApiClient(JournaledUser):
    weight = 1

    def on_start(self):
        self.client.headers.update(
            {"Authorization": f"Bearer {PLAN['api_token']}", "X-Forwarded-Proto": "https"}
        )

    @task
    def create_an_order(self):
        key = str(uuid.uuid4())
        body = api_order(random.randrange(1_000_000))
        times = 2 if random.random() < 0.3 else 1
        for attempt in range(times):
            self.call(
                "API create order" if attempt == 0 else "API create order again",
                "POST",
                "/api/v1/orders",
                json=body,
                headers={"Idempotency-Key": key},
                meant={"idempotency_key": key},
            )


class Customer(JournaledUser):
    weight = 2

    @task
    def open_the_tracking_page(self):
        token = random.choice(PLAN["customer_page_tokens"])
        self.call("customer tracking page", "GET", f"/t/{token}/")


def sign(body: bytes) -> str:
    import base64
    import hashlib
    import hmac

    return base64.b64encode(hmac.new(PLAN["shopify_secret"].encode(), body, hashlib.sha256).digest()).decode()


def shopify_order(number: int) -> dict:
    return {
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


def api_order(number: int) -> dict:
    return {
        "customer": {
            "name": f"Maria Santos {number}",
            "phone": "0917 555 0101",
            "email": "maria@example.com",
        },
        "lines": [{"title": "Linen shirt", "sku": "LS-M", "quantity": 2, "unit_price": "799.00"}],
        "payment_method": "gcash",
        "shipping_option": "J&T Express",
        "shipping_fee": "120.00",
    }


@events.quitting.add_listener
def _close_journal(**_):
    JOURNAL.flush()
