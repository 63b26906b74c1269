"""Webhooks in: signatures checked in constant time, the delivery stored once, the work after commit."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .credentials import decrypt_text
from .errors import ConnectionRefused
from .models import InboundDelivery, Store
from .sync import process_after_commit

SHOPIFY_TOPICS = {"orders/paid", "orders/updated", "orders/cancelled", "orders/create"}
WOOCOMMERCE_TOPICS = {"order.created", "order.updated"}


def signature_of(body: bytes, secret: str) -> str:
    """Base64 HMAC-SHA256 of the raw body: Shopify's and WooCommerce's algorithm."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _refusal(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


class _WebhookStore(NamedTuple):
    """What answering a delivery needs of its store: no model instance, no ORM query to compile."""

    pk: int
    merchant_id: int
    webhook_secret_encrypted: str


def _store_for(token: str, channel: str) -> _WebhookStore | None:
    """The store this webhook address belongs to, in one plain statement (the answer's first of two)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('id')}, {quote('merchant_id')}, {quote('webhook_secret_encrypted')} "
            f"FROM {quote(Store._meta.db_table)} "
            f"WHERE {quote('webhook_token')} = %s AND {quote('channel')} = %s AND {quote('removed_at')} IS NULL",
            [token, channel],
        )
        row = cursor.fetchone()
    return None if row is None else _WebhookStore(*row)


def _signed_by_store(request: HttpRequest, store: _WebhookStore, header: str) -> bool:
    given = request.headers.get(header, "")
    try:
        secret = decrypt_text(store.webhook_secret_encrypted)
    except ConnectionRefused:
        return False
    if not given or not secret:
        return False
    return hmac.compare_digest(given.encode(), signature_of(request.body, secret).encode())


def _too_large(request: HttpRequest) -> bool:
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    return declared > settings.STORE_WEBHOOK_MAX_BYTES


def _order_payload(request: HttpRequest) -> tuple[dict | None, JsonResponse | None]:
    try:
        payload = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return None, _refusal(400, "The body is not JSON.")
    if not isinstance(payload, dict):
        return None, _refusal(400, "The body is not a JSON object.")
    missing = [name for name in ("id", "line_items") if name not in payload]
    if missing:
        return None, _refusal(400, f"The order is missing: {', '.join(missing)}.")
    return payload, None


def _store_delivery(store: _WebhookStore, delivery_id: str, topic: str, body: bytes) -> HttpResponse:
    """Store the delivery once per (store, delivery id) and hand it to the background: one
    INSERT … ON CONFLICT DO NOTHING in autocommit (a retry of a delivery we have inserts
    nothing and returns no id), so the answer waits for no transaction of its own."""
    table = InboundDelivery._meta
    quote = connection.ops.quote_name
    columns = ("merchant_id", "store_id", "delivery_id", "topic", "body", "outcome", "received_at")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(table.db_table)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))}) "
            f"ON CONFLICT ({quote('store_id')}, {quote('delivery_id')}) DO NOTHING RETURNING {quote('id')}",
            [
                store.merchant_id,
                store.pk,
                delivery_id[:100],
                topic[:100],
                body.decode(),
                InboundDelivery.Outcome.RECEIVED,
                connection.ops.adapt_datetimefield_value(timezone.now()),
            ],
        )
        stored = cursor.fetchone()
    if stored is None:
        # A retry of a delivery we already have: taken in once.
        return JsonResponse({"status": "duplicate"})
    process_after_commit(stored[0])
    return JsonResponse({"status": "accepted"})


@csrf_exempt
@require_POST
def shopify_webhook(request: HttpRequest, token: str) -> HttpResponse:
    if _too_large(request):
        return _refusal(413, f"The body is over {settings.STORE_WEBHOOK_MAX_BYTES} bytes.")
    store = _store_for(token, Store.Channel.SHOPIFY)
    if store is None:
        return _refusal(404, "No Shopify store has this webhook address.")
    if len(request.body) > settings.STORE_WEBHOOK_MAX_BYTES:
        return _refusal(413, f"The body is over {settings.STORE_WEBHOOK_MAX_BYTES} bytes.")
    if not _signed_by_store(request, store, "X-Shopify-Hmac-Sha256"):
        return _refusal(401, "The X-Shopify-Hmac-Sha256 signature is missing or wrong.")
    topic = request.headers.get("X-Shopify-Topic", "")
    if topic not in SHOPIFY_TOPICS:
        return _refusal(
            400, f"The topic “{topic}” is not one Orderdesk takes: {', '.join(sorted(SHOPIFY_TOPICS))}."
        )
    delivery_id = request.headers.get("X-Shopify-Webhook-Id", "")
    if not delivery_id:
        return _refusal(400, "The X-Shopify-Webhook-Id header is missing.")
    _payload, refused = _order_payload(request)
    if refused:
        return refused
    return _store_delivery(store, delivery_id, topic, request.body)


@csrf_exempt
@require_POST
def woocommerce_webhook(request: HttpRequest, token: str) -> HttpResponse:
    if _too_large(request):
        return _refusal(413, f"The body is over {settings.STORE_WEBHOOK_MAX_BYTES} bytes.")
    store = _store_for(token, Store.Channel.WOOCOMMERCE)
    if store is None:
        return _refusal(404, "No WooCommerce store has this webhook address.")
    if len(request.body) > settings.STORE_WEBHOOK_MAX_BYTES:
        return _refusal(413, f"The body is over {settings.STORE_WEBHOOK_MAX_BYTES} bytes.")
    # WooCommerce pings a new webhook with a form-encoded webhook_id=N and no signature.
    if request.content_type == "application/x-www-form-urlencoded" and request.body.startswith(
        b"webhook_id="
    ):
        return JsonResponse({"status": "pong"})
    if not _signed_by_store(request, store, "X-WC-Webhook-Signature"):
        return _refusal(401, "The X-WC-Webhook-Signature signature is missing or wrong.")
    topic = request.headers.get("X-WC-Webhook-Topic", "")
    if topic not in WOOCOMMERCE_TOPICS:
        return _refusal(
            400, f"The topic “{topic}” is not one Orderdesk takes: {', '.join(sorted(WOOCOMMERCE_TOPICS))}."
        )
    payload, refused = _order_payload(request)
    if refused:
        return refused
    delivery_id = (
        request.headers.get("X-WC-Webhook-Delivery-ID", "") or hashlib.sha256(request.body).hexdigest()
    )
    return _store_delivery(store, delivery_id, topic, request.body)
