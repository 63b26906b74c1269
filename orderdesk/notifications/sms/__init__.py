"""SMS backends, chosen by the SMS_BACKEND setting: console, file, twilio, semaphore, http.

Each backend has `send(sms) -> provider message id` and raises TemporaryFailure
or PermanentFailure (orderdesk.notifications.errors) when the provider does not
take the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

BACKENDS = {
    "console": "orderdesk.notifications.sms.console.ConsoleBackend",
    "file": "orderdesk.notifications.sms.file.FileBackend",
    "twilio": "orderdesk.notifications.sms.twilio.TwilioBackend",
    "semaphore": "orderdesk.notifications.sms.semaphore.SemaphoreBackend",
    "http": "orderdesk.notifications.sms.webhook.WebhookBackend",
}


@dataclass(frozen=True)
class OutgoingSms:
    to: str  # E.164
    sender: str
    body: str
    # The same for every attempt at one message, so a provider that honours it sends once.
    idempotency_key: str


class SmsBackend(Protocol):
    def send(self, sms: OutgoingSms) -> str: ...


def get_sms_backend(name: str | None = None) -> SmsBackend:
    """The configured backend, built from the settings as they are now."""
    name = name or settings.SMS_BACKEND
    try:
        path = BACKENDS[name]
    except KeyError as unknown:
        raise ImproperlyConfigured(
            f"SMS_BACKEND is “{name}”; it must be one of {', '.join(BACKENDS)}."
        ) from unknown
    return import_string(path)()


def request_timeout() -> tuple[float, float]:
    """(connect, read) seconds for provider requests; the read part is NOTIFICATION_SEND_TIMEOUT_SECONDS."""
    return (5.0, float(settings.NOTIFICATION_SEND_TIMEOUT_SECONDS))


def post_to_provider(provider: str, url: str, *, takes_idempotency_key: bool, **kwargs):
    """POST with our timeouts; raises TemporaryFailure or PermanentFailure when no answer came.

    When the connection was never made (refused, or the connect timed out) nothing
    reached the provider, and another attempt is safe. When the request went out but
    the answer did not come in time, the provider may have taken the message: a retry
    is safe only for a provider that honours our idempotency key. For one that does
    not (Twilio, Semaphore) a retry could send the message twice, so the attempt is
    final and the merchant decides whether to resend.
    """
    import requests

    from orderdesk.notifications.errors import PermanentFailure, TemporaryFailure

    try:
        return requests.post(url, timeout=request_timeout(), **kwargs)
    # ConnectTimeout is also a Timeout: it must be caught before the read timeout below.
    except requests.ConnectTimeout as timeout:
        raise TemporaryFailure(f"{provider} could not be reached in time (ConnectTimeout).") from timeout
    except requests.Timeout as timeout:
        if takes_idempotency_key:
            raise TemporaryFailure(
                f"{provider} did not answer in time ({timeout.__class__.__name__})."
            ) from timeout
        raise PermanentFailure(
            f"{provider} did not answer in time ({timeout.__class__.__name__}), so the SMS may have been "
            f"sent. Not tried again: check with {provider} or the recipient before using Resend."
        ) from timeout
    except requests.RequestException as failure:
        raise TemporaryFailure(f"{provider} could not be reached: {failure}") from failure


def retry_after(response) -> float | None:
    """The Retry-After header in seconds, when the provider sent one as a number."""
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def refused(provider: str, response, detail: str):
    """The failure for an HTTP error answer: 429 and 5xx are temporary, other 4xx permanent."""
    from orderdesk.notifications.errors import PermanentFailure, TemporaryFailure

    text = f"{provider} answered {response.status_code}: {detail}".strip().rstrip(":")
    if response.status_code == 429 or response.status_code >= 500:
        return TemporaryFailure(text, retry_after=retry_after(response))
    return PermanentFailure(text)
