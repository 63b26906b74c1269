"""The registry of message topics: each domain app registers, in its AppConfig.ready, how
the worker writes its messages, so the outbox composes text without knowing the domain.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .models import Notification


class Acting(Protocol):
    """What the outbox needs of whoever acts (accounts' Actor is one): the merchant it acts for,
    a name for the timeline, and the permission check. The outbox sits below accounts, so it
    names the shape here instead of importing Actor."""

    @property
    def merchant(self): ...

    @property
    def display_name(self) -> str: ...

    def ensure_can(self, permission: str) -> None: ...


# The permission table's names (accounts.permissions.Permission) of what the outbox checks.
CHOOSE_NOTIFICATIONS = "choose_notifications"
RESEND_NOTIFICATIONS = "resend_notifications"


@dataclass(frozen=True)
class Composed:
    """A message's text: the subject (email only), the plain body and, for email, HTML."""

    subject: str
    body: str
    html_body: str = ""


@dataclass(frozen=True)
class Topic:
    name: str
    # What caused the message, in words ("Payment verified").
    label: str
    # Writes the text from the row's payload; None for messages queued with their text.
    compose: Callable[[Notification], Composed] | None = None
    # The path of the page that lists the message (its order's page).
    page: Callable[[Notification], str] | None = None
    # Told, inside the resend's transaction, that someone resent a failed message.
    resent: Callable[..., None] | None = None


_topics: dict[str, Topic] = {}


def register_topic(
    name: str,
    *,
    label: str,
    compose: Callable[[Notification], Composed] | None = None,
    page: Callable[[Notification], str] | None = None,
    resent: Callable[..., None] | None = None,
) -> Topic:
    """Make a topic known to the outbox (call from an AppConfig.ready; registering twice replaces)."""
    topic = Topic(name=name, label=label, compose=compose, page=page, resent=resent)
    _topics[name] = topic
    return topic


# Channel → the function that sends a composed message on it and returns the peer's id for it
# (raising delivery.DeliveryFailed / TemporaryFailure). SMS and email are the outbox's own.
_senders: dict[str, Callable[[Notification], str]] = {}


def register_sender(channel: str, send: Callable[[Notification], str]) -> None:
    """Make a channel deliverable (call from an AppConfig.ready; registering twice replaces)."""
    _senders[channel] = send


def sender_of(channel: str) -> Callable[[Notification], str] | None:
    return _senders.get(channel)


def topic_of(name: str) -> Topic | None:
    return _topics.get(name)


def compose_message(notification: Notification) -> Composed:
    """The text of a message: what its topic's composer writes, or what it was queued with."""
    topic = topic_of(notification.topic)
    if topic is None or topic.compose is None:
        if notification.body:
            return Composed(notification.subject, notification.body, notification.html_body)
        raise LookupError(f"No composer is registered for “{notification.topic}”.")
    return topic.compose(notification)


_together = threading.local()


@contextmanager
def composing_together() -> Iterator[None]:
    """Messages composed in this block (one action's SMS and email, sent together) share what
    their composers read through `shared_read`: the order is read once for both."""
    _together.memo = {}
    try:
        yield
    finally:
        _together.memo = None


def shared_read(key, read: Callable[[], object]):
    """`read()`, or what it gave for `key` earlier in the same composing_together block."""
    memo = getattr(_together, "memo", None)
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]


def tell_resent(notification: Notification, *, by: Acting | None, label: str, last_error: str) -> None:
    """Tell the message's topic it was resent, by `by` or, for an operator's retry, the system named `label`."""
    topic = topic_of(notification.topic)
    if topic is not None and topic.resent is not None:
        topic.resent(notification, by=by, label=label, last_error=last_error)
