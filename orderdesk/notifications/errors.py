"""Refusals of the notification actions, and how a delivery attempt can fail."""

from __future__ import annotations

from orderdesk.errors import DomainError, NotFound


class NotificationNotFound(NotFound):
    def __init__(self):
        super().__init__("That notification does not exist.")


class ResendRefused(DomainError):
    """Only a message that finally failed can be sent again."""


class DeliveryFailed(Exception):
    """A provider (SMTP server, SMS gateway) did not take the message."""

    retryable = False

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        # Seconds the provider asked us to wait (Retry-After), if it said.
        self.retry_after = retry_after


class TemporaryFailure(DeliveryFailed):
    """Worth another attempt later: the provider was down, slow, rate-limiting or erring."""

    retryable = True


class PermanentFailure(DeliveryFailed):
    """Another attempt would fail the same way: a refused number or address, a bad request."""
