"""WooCommerce: the REST API v3 (consumer key and secret), and its webhook payloads."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from decimal import Decimal

import requests

from . import incoming
from .credentials import decrypt_credentials
from .errors import MalformedStoreOrder, StoreUnreachable, TrackingRefused
from .incoming import IncomingLine, IncomingOrder
from .models import Store
from .transport import StoreApi

# The most orders WooCommerce returns per page (its per_page maximum).
PAGE_SIZE = 100
# WooCommerce's "processing" is paid and waiting to be fulfilled.
_STANDING = {
    "processing": IncomingOrder.Standing.PAID,
    "completed": IncomingOrder.Standing.FULFILLED,
    "cancelled": IncomingOrder.Standing.CANCELLED,
    "refunded": IncomingOrder.Standing.CANCELLED,
}
_PAYMENT_METHODS = {
    "cod": "cod",
    "bacs": "bank_transfer",
    "paypal": "paypal",
    "ppcp-gateway": "paypal",
    "stripe": "card",
    "woocommerce_payments": "card",
}


def api_base_url(store: Store) -> str:
    return (store.api_base_url or store.url).rstrip("/")


class WooCommerceClient:
    """A site's WooCommerce REST API v3, paged by X-WP-TotalPages."""

    def __init__(self, store: Store, *, sleep: Callable[[float], None] | None = None):
        credentials = decrypt_credentials(store.credentials_encrypted)
        session = requests.Session()
        # Basic auth over HTTPS is WooCommerce's documented way for consumer keys.
        session.auth = (credentials.get("consumer_key", ""), credentials.get("consumer_secret", ""))
        extra = {"sleep": sleep} if sleep else {}
        self.api = StoreApi(store_name=store.name, session=session, **extra)
        self.base = f"{api_base_url(store)}/wp-json/wc/v3"
        # How many orders the run's pages hold in all, as the first page's X-WP-Total said.
        self.expected_total: int | None = None

    def check(self) -> dict:
        """One order (or none): proves the keys may read orders."""
        response = self.api.call("GET", f"{self.base}/orders", params={"per_page": 1})
        answer = self.api.json_of(response)
        if not isinstance(answer, list):
            raise StoreUnreachable("The site did not answer like WooCommerce's REST API.")
        return {"name": "", "currency": ""}

    def order_pages(
        self,
        *,
        created_after: datetime.datetime | None = None,
        updated_after: datetime.datetime | None = None,
    ) -> Iterator[list[dict]]:
        """Pages of orders: the backfill's processing orders created since a time, or the
        poll's orders of any status modified since its cursor (edits, cancellations)."""
        params: dict = {"per_page": PAGE_SIZE, "orderby": "modified", "order": "asc", "dates_are_gmt": "true"}
        if updated_after is not None:
            params["modified_after"] = _woo_time(updated_after)
        else:
            params["status"] = "processing"
            if created_after is not None:
                params["after"] = _woo_time(created_after)
        page = 1
        while True:
            response = self.api.call("GET", f"{self.base}/orders", params={**params, "page": page})
            answer = self.api.json_of(response)
            if not isinstance(answer, list):
                raise StoreUnreachable("The site did not answer with a list of orders.")
            if page == 1:
                try:
                    self.expected_total = int(response.headers.get("X-WP-Total", ""))
                except ValueError:
                    self.expected_total = None
            yield answer
            try:
                total_pages = int(response.headers.get("X-WP-TotalPages", "1"))
            except ValueError:
                total_pages = 1
            if page >= total_pages or not answer:
                return
            page += 1

    def order_notes(self, order_id: str) -> list[dict]:
        """The order's notes, newest first (GET /orders/<id>/notes)."""
        answer = self.api.json_of(self.api.call("GET", f"{self.base}/orders/{_order_id(order_id)}/notes"))
        if not isinstance(answer, list):
            raise StoreUnreachable("The site did not answer with a list of order notes.")
        return [note for note in answer if isinstance(note, dict)]

    def add_order_note(self, order_id: str, note: str, *, customer_note: bool = False) -> str:
        """A note on the order (private unless `customer_note`, which WooCommerce emails); its id."""
        response = self.api.call(
            "POST",
            f"{self.base}/orders/{_order_id(order_id)}/notes",
            json={"note": note, "customer_note": customer_note},
        )
        answer = self.api.json_of(response)
        return str(answer.get("id", "")) if isinstance(answer, dict) else ""

    def order_status(self, order_id: str) -> str:
        """The order's status in the store now (GET /orders/<id>)."""
        answer = self.api.json_of(self.api.call("GET", f"{self.base}/orders/{_order_id(order_id)}"))
        return str(answer.get("status", "")) if isinstance(answer, dict) else ""

    def set_order_status(self, order_id: str, status: str) -> None:
        """PUT /orders/<id> with the new status (completed once everything has shipped)."""
        self.api.call("PUT", f"{self.base}/orders/{_order_id(order_id)}", json={"status": status})


def _order_id(order_id: str) -> str:
    # An id from the store is a number; anything else must never reach the URL's path.
    if not str(order_id).isdigit():
        raise TrackingRefused(f"“{order_id}” is not a WooCommerce order id.")
    return str(order_id)


def _woo_time(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def order_from_json(payload: dict) -> IncomingOrder:
    """A WooCommerce order (REST v3 or webhook body); raises MalformedStoreOrder."""
    if not isinstance(payload, dict):
        raise MalformedStoreOrder("The order is not an object.")
    if payload.get("id") in (None, ""):
        raise MalformedStoreOrder("The order has no “id”.")
    if not isinstance(payload.get("line_items"), list):
        raise MalformedStoreOrder("The order has no “line_items” list.")
    status = incoming.text(payload.get("status"))
    billing = payload.get("billing") or {}
    shipping = payload.get("shipping") or {}
    lines = []
    for line in payload["line_items"]:
        if not isinstance(line, dict):
            raise MalformedStoreOrder("An item of the order is not an object.")
        title = incoming.text(line.get("name"))
        count = incoming.quantity(line.get("quantity"), title or "an item")
        # "price" is a float in WooCommerce's JSON; the subtotal text is exact.
        subtotal = line.get("subtotal")
        unit_price = (
            incoming.amount(Decimal(str(subtotal)) / count, f"price of {title or 'an item'}")
            if subtotal not in (None, "") and count > 0
            else incoming.amount(line.get("price"), f"price of {title or 'an item'}")
        )
        variation = ", ".join(
            incoming.text(meta.get("display_value") or meta.get("value"))
            for meta in line.get("meta_data") or []
            if isinstance(meta, dict) and not str(meta.get("key", "")).startswith("_")
        )
        lines.append(
            IncomingLine(
                sku=incoming.text(line.get("sku")),
                title=title,
                variant_title=variation,
                quantity=count,
                unit_price=unit_price,
            )
        )
    shipping_lines = [s for s in payload.get("shipping_lines") or [] if isinstance(s, dict)]
    person = shipping if shipping.get("first_name") or shipping.get("last_name") else billing
    name = " ".join(
        part
        for part in (incoming.text(person.get("first_name")), incoming.text(person.get("last_name")))
        if part
    )
    external_id = incoming.text(payload.get("id"))
    return IncomingOrder(
        external_id=external_id,
        standing=_STANDING.get(status, IncomingOrder.Standing.UNPAID),
        currency=incoming.text(payload.get("currency")).upper(),
        customer_name=name or f"Customer of order #{incoming.text(payload.get('number')) or external_id}",
        customer_phone=incoming.text(shipping.get("phone") or billing.get("phone")),
        customer_email=incoming.text(billing.get("email")),
        shipping_address=incoming.address_text(
            shipping.get("address_1") or billing.get("address_1"),
            shipping.get("address_2") or billing.get("address_2"),
            shipping.get("city") or billing.get("city"),
            shipping.get("state") or billing.get("state"),
            shipping.get("postcode") or billing.get("postcode"),
            shipping.get("country") or billing.get("country"),
        ),
        lines=tuple(lines),
        payment_method=_PAYMENT_METHODS.get(incoming.text(payload.get("payment_method")), "other"),
        shipping_option=incoming.text(shipping_lines[0].get("method_title")) if shipping_lines else "",
        shipping_fee=incoming.amount(payload.get("shipping_total"), "shipping fee"),
        discount=incoming.amount(payload.get("discount_total"), "discount"),
        note=incoming.text(payload.get("customer_note")),
        placed_at=incoming.moment(payload.get("date_created_gmt") or payload.get("date_created")),
        updated_at=incoming.moment(payload.get("date_modified_gmt") or payload.get("date_modified")),
        extra={"woocommerce_number": incoming.text(payload.get("number"))},
    )
