"""Webhooks in: signatures checked in constant time, the delivery stored once, the work after commit."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
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


def _store_for(token: str, channel: str) -> Store | None:
    return (
        Store.objects.select_related("merchant")
        .filter(webhook_token=token, channel=channel, removed_at=None)
        .first()
    )


def _signed_by_store(request: HttpRequest, store: Store, header: str) -> bool:
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


def _store_delivery(store: Store, delivery_id: str, topic: str, body: bytes) -> HttpResponse:
    try:
        with transaction.atomic():
            delivery = InboundDelivery.objects.create(
                merchant_id=store.merchant_id,
                store=store,
                delivery_id=delivery_id[:100],
                topic=topic[:100],
                body=body.decode(),
            )
            process_after_commit(delivery.pk)
    except IntegrityError:
        # A retry of a delivery we already have: taken in once.
        return JsonResponse({"status": "duplicate"})
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
