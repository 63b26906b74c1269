import hashlib
import hmac
import json

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from orderdesk.notifications.errors import TemporaryFailure

from . import OutgoingSms, post_to_provider, refused


def signature(body: bytes, secret: str) -> str:
    """The X-Orderdesk-Signature header value: sha256=<hex HMAC-SHA256 of the body>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookBackend:
    """A gateway of the operator's own: JSON POST to SMS_WEBHOOK_URL, signed with
    SMS_WEBHOOK_SECRET, with an Idempotency-Key header the gateway should honour.

    A 2xx answer is success (its JSON "id", if any, is kept); 409 means the gateway is
    still working on the same key and is retried; 429 and 5xx are retried; other 4xx final.
    """

    def __init__(self):
        self.url = settings.SMS_WEBHOOK_URL
        self.secret = settings.SMS_WEBHOOK_SECRET
        if not self.url or not self.secret:
            raise ImproperlyConfigured("SMS_BACKEND=http needs SMS_WEBHOOK_URL and SMS_WEBHOOK_SECRET.")

    def send(self, sms: OutgoingSms) -> str:
        body = json.dumps(
            {"to": sms.to, "from": sms.sender, "body": sms.body, "idempotency_key": sms.idempotency_key},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        response = post_to_provider(
            "The SMS gateway",
            self.url,
            takes_idempotency_key=True,
            data=body,
            headers={
                "Content-Type": "application/json",
                "X-Orderdesk-Signature": signature(body, self.secret),
                "Idempotency-Key": sms.idempotency_key,
            },
        )
        if response.ok:
            try:
                answer = response.json()
            except ValueError:
                answer = {}
            return str(answer.get("id", "")) if isinstance(answer, dict) else ""
        if response.status_code == 409:
            raise TemporaryFailure("The SMS gateway is still sending this message (409); will check again.")
        raise refused("The SMS gateway", response, response.text[:300])
