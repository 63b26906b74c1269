"""Groundwork for webhooks out: Standard Webhooks signatures, and where a webhook may be sent.

Endpoints, deliveries through the outbox and the delivery log come with the rest of issue 11;
these two pieces are what every delivery will use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import socket
from urllib.parse import urlsplit

from orderdesk.errors import DomainError

SECRET_PREFIX = "whsec_"


class WebhookAddressRefused(DomainError):
    """The endpoint's URL may not receive webhooks (not https, or a private address)."""


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature_headers(*, secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The `webhook-id`, `webhook-timestamp` and `webhook-signature` headers of one delivery."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": f"v1,{digest}",
    }


def ensure_sendable(url: str, *, production: bool) -> None:
    """Refuse (WebhookAddressRefused) a URL a webhook may not go to; in production it must be
    https and every address its host resolves to must be public. Checked at send time, since
    a name can be pointed at 127.0.0.1 after it was saved."""
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise WebhookAddressRefused("Enter the endpoint's full URL, starting with https://.", field="url")
    if not production:
        return
    if parts.scheme != "https":
        raise WebhookAddressRefused("Webhook endpoints must use https.", field="url")
    try:
        resolved = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except (socket.gaierror, UnicodeError) as unknown:
        raise WebhookAddressRefused(f"{parts.hostname} cannot be found.", field="url") from unknown
    for address in resolved:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            raise WebhookAddressRefused(
                f"{parts.hostname} leads to a private address ({ip}); webhooks go to public addresses only.",
                field="url",
            )
