"""Sending one webhook delivery (an outbox row on the webhook channel) to its endpoint.

The outbox claims the row, calls `send_webhook`, and retries with its back-off when this
raises TemporaryFailure. Every attempt is written to the endpoint's delivery log.

The address is checked at every send: the host is resolved now, every address it gives must
be public (in production), and the connection goes to one of those checked addresses, with
the host name sent for TLS and in the Host header. A name re-pointed at 127.0.0.1 between the
check and the connection (DNS rebinding) reaches nothing. Redirects are not followed.
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from orderdesk.notifications.errors import DeliveryFailed, PermanentFailure, TemporaryFailure
from orderdesk.notifications.models import Notification
from orderdesk.stores.credentials import decrypt_text

from .models import WebhookAttempt, WebhookEndpoint
from .webhook_signing import SendableAddress, WebhookAddressRefused, ensure_sendable, signature_headers
from .webhooks import note_delivery_outcome, only_public_addresses

logger = logging.getLogger(__name__)

EXCERPT_LENGTH = 500
# Read no more of an answer than this: only its start is kept.
MAX_ANSWER_BYTES = 64 * 1024
USER_AGENT = "Orderdesk-Webhooks/1"


@dataclass(frozen=True)
class Answer:
    status: int
    excerpt: str
    retry_after: float | None = None


def send_webhook(notification: Notification) -> str:
    """POST the row's body, signed, to its endpoint; 2xx is sent, anything else is retried.

    Returns "HTTP <status>" for the outbox's provider id; raises TemporaryFailure (an error
    answer, a timeout, no connection) or PermanentFailure (the endpoint is gone, switched off,
    or its address is refused).
    """
    endpoint = WebhookEndpoint.objects.filter(
        pk=notification.payload.get("endpoint_id"), merchant_id=notification.merchant_id
    ).first()
    if endpoint is None:
        raise PermanentFailure("The endpoint was deleted; not sent.")
    if not endpoint.is_active:
        raise PermanentFailure("The endpoint is switched off; not sent. Switch it on and retry what failed.")
    started = time.monotonic()
    try:
        answer = _post(endpoint, notification)
    except DeliveryFailed as failure:
        _record_attempt(
            endpoint, notification, started, status_code=None, succeeded=False, excerpt=str(failure)
        )
        raise
    succeeded = 200 <= answer.status < 300
    _record_attempt(
        endpoint,
        notification,
        started,
        status_code=answer.status,
        succeeded=succeeded,
        excerpt=answer.excerpt,
    )
    if not succeeded:
        raise TemporaryFailure(
            f"HTTP {answer.status}: {answer.excerpt}".strip(), retry_after=answer.retry_after
        )
    return f"HTTP {answer.status}"


def _post(endpoint: WebhookEndpoint, notification: Notification) -> Answer:
    try:
        address = ensure_sendable(endpoint.url, production=only_public_addresses())
    except WebhookAddressRefused as refused:
        if refused.message.endswith("cannot be found."):
            raise TemporaryFailure(refused.message) from refused
        raise PermanentFailure(refused.message) from refused
    try:
        secret = decrypt_text(endpoint.secret_encrypted)
    except Exception as unreadable:
        raise PermanentFailure(
            "The endpoint's secret cannot be read (CREDENTIALS_KEY changed?)."
        ) from unreadable
    body = notification.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signature_headers(
            secret=secret,
            message_id=notification.payload.get("event_id") or f"msg_{notification.pk}",
            timestamp=int(time.time()),
            body=body,
        ),
    }
    return post_to_checked_address(address, body, headers, timeout=settings.NOTIFICATION_SEND_TIMEOUT_SECONDS)


def post_to_checked_address(
    address: SendableAddress, body: bytes, headers: dict[str, str], *, timeout: float
) -> Answer:
    """POST to the first of the checked addresses that takes the connection."""
    last_error: OSError | None = None
    for ip in address.addresses:
        connection = _connection_to(address, ip, timeout)
        try:
            try:
                connection.connect()
            except OSError as refused:
                if isinstance(refused, ssl.SSLError):
                    raise
                last_error = refused
                continue
            connection.request("POST", address.path, body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read(MAX_ANSWER_BYTES)
            excerpt = " ".join(raw.decode("utf-8", "replace").split())[:EXCERPT_LENGTH]
            return Answer(status=response.status, excerpt=excerpt, retry_after=_retry_after(response))
        except ssl.SSLError as tls:
            raise TemporaryFailure(f"TLS failed with {address.host}: {tls.reason or tls}") from tls
        except TimeoutError as slow:
            raise TemporaryFailure(f"No answer within {timeout:g} s.") from slow
        except (OSError, http.client.HTTPException) as broken:
            raise TemporaryFailure(f"The connection failed: {broken!r}"[:EXCERPT_LENGTH]) from broken
        finally:
            connection.close()
    if isinstance(last_error, TimeoutError):
        raise TemporaryFailure(f"No connection to {address.host} within {timeout:g} s.")
    raise TemporaryFailure(f"No connection to {address.host}: {last_error}")


def _retry_after(response) -> float | None:
    value = response.getheader("Retry-After", "")
    if value.isdigit():
        # Honoured up to an hour; beyond that the outbox's own back-off decides.
        return min(float(value), 3600.0)
    return None


def _connection_to(address: SendableAddress, ip: str, timeout: float) -> http.client.HTTPConnection:
    if address.scheme == "https":
        return _PinnedHTTPSConnection(address.host, ip, address.port, timeout)
    return _PinnedHTTPConnection(address.host, ip, address.port, timeout)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Talks to `ip`, whatever `host` resolves to by now; the Host header still names `host`."""

    def __init__(self, host: str, ip: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.ip = ip

    def connect(self):
        self.sock = socket.create_connection((self.ip, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = 443

    def connect(self):
        super().connect()
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self.sock, server_hostname=self.host)


def _record_attempt(
    endpoint, notification, started: float, *, status_code, succeeded: bool, excerpt: str
) -> None:
    """Write the attempt to the delivery log and tell the endpoint's failing streak. Never raises:
    an endpoint that took the event must not get it again because the log could not be written."""
    try:
        WebhookAttempt.objects.create(
            merchant_id=endpoint.merchant_id,
            endpoint=endpoint,
            notification=notification,
            attempted_at=timezone.now(),
            status_code=status_code,
            succeeded=succeeded,
            answer_excerpt=excerpt[:EXCERPT_LENGTH],
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        answer = f"HTTP {status_code} {excerpt}" if status_code else excerpt
        note_delivery_outcome(endpoint.pk, succeeded=succeeded, answer=answer[:EXCERPT_LENGTH])
    except Exception:
        logger.exception("Webhook delivery %s: the attempt could not be logged.", notification.pk)
