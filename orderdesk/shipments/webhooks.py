"""The carrier-tracking webhook (AfterShip): checked in this order, each refusal a clear 4xx
with nothing changed — unknown feed 404, body too large 413, bad or missing signature 401,
malformed body 400, a stale or future `ts` (a replay) 400, unknown tracking number 404.
The same delivery again is a 200 that changes nothing."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from orderdesk.stores.credentials import decrypt_text
from orderdesk.stores.errors import ConnectionRefused

from .aftership import MalformedDelivery, UnknownTrackingNumber, apply_tracking_update, read_update
from .models import CarrierFeed

SIGNATURE_HEADER = "aftership-hmac-sha256"


def signature_of(body: bytes, secret: str) -> str:
    """AfterShip's signature: base64 of the HMAC-SHA256 of the raw body under the webhook secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _refusal(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
@require_POST
def aftership_webhook(request: HttpRequest, token: str):
    feed = CarrierFeed.objects.select_related("merchant").filter(token=token).first()
    if feed is None:
        return _refusal(404, "No carrier-tracking feed has this address.")
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > settings.STORE_WEBHOOK_MAX_BYTES:
        return _refusal(413, "The body is too large.")
    given = request.headers.get(SIGNATURE_HEADER, "")
    try:
        secret = decrypt_text(feed.secret_encrypted)
    except ConnectionRefused:
        secret = ""
    if (
        not given
        or not secret
        or not hmac.compare_digest(given.encode(), signature_of(request.body, secret).encode())
    ):
        return _refusal(401, f"The {SIGNATURE_HEADER} signature does not match this feed's secret.")
    try:
        payload = json.loads(request.body)
        update = read_update(payload, zone=feed.merchant.zone)
    except (ValueError, UnicodeDecodeError) as unreadable:
        message = str(unreadable) if isinstance(unreadable, MalformedDelivery) else "The body is not JSON."
        return _refusal(400, message)
    age = abs((timezone.now() - update.sent_at).total_seconds())
    if age > settings.CARRIER_WEBHOOK_MAX_AGE_SECONDS:
        return _refusal(
            400,
            f"The delivery's ts is {datetime.timedelta(seconds=int(age))} away from now; "
            f"a replay is refused (at most {settings.CARRIER_WEBHOOK_MAX_AGE_SECONDS} s).",
        )
    if update.event != "tracking_update":
        return JsonResponse({"status": "ignored", "reason": f"“{update.event}” is not a tracking update."})
    try:
        applied = apply_tracking_update(feed, update)
    except UnknownTrackingNumber:
        return _refusal(404, f"No shipment has the tracking number {update.tracking_number}.")
    return JsonResponse(
        {
            "status": "already applied" if applied.already_applied else "applied",
            "shipment": applied.shipment_id,
            "moved_to": applied.moved_to,
            "events_added": applied.events_added,
        }
    )
