"""Standard Webhooks signatures, and where a webhook may be sent (checked at every send)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import socket
from dataclasses import dataclass
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


@dataclass(frozen=True)
class SendableAddress:
    """Where one delivery goes: the URL's parts, and the addresses its host resolved to, checked.

    The sender connects to one of `addresses` itself (sending the host name for TLS and the
    Host header), so a name re-pointed between the check and the connection changes nothing.
    """

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def ensure_sendable(url: str, *, production: bool) -> SendableAddress:
    """Refuse (WebhookAddressRefused) a URL a webhook may not go to; in production it must be
    https and every address its host resolves to must be public. Checked when the endpoint is
    saved and again at every send, since a name can be pointed at 127.0.0.1 after it was saved."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as bad_port:
        raise WebhookAddressRefused(
            "The URL's port is not a number from 1 to 65535.", field="url"
        ) from bad_port
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise WebhookAddressRefused("Enter the endpoint's full URL, starting with https://.", field="url")
    if parts.username or parts.password:
        raise WebhookAddressRefused("Leave the user name and password out of the URL.", field="url")
    if production and parts.scheme != "https":
        raise WebhookAddressRefused("Webhook endpoints must use https.", field="url")
    try:
        resolved = tuple(
            dict.fromkeys(
                info[4][0] for info in socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
            )
        )
    except (socket.gaierror, UnicodeError) as unknown:
        raise WebhookAddressRefused(f"{parts.hostname} cannot be found.", field="url") from unknown
    if production:
        for address in resolved:
            ip = ipaddress.ip_address(address.split("%")[0])
            if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
                ip = ip.ipv4_mapped
            if not ip.is_global or ip.is_multicast:
                raise WebhookAddressRefused(
                    f"{parts.hostname} leads to a private address ({ip}); webhooks go to public addresses only.",
                    field="url",
                )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return SendableAddress(scheme=parts.scheme, host=parts.hostname, port=port, path=path, addresses=resolved)
