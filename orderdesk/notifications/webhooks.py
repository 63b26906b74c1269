"""The table of events a merchant's endpoints can subscribe to, which domain apps extend, and
the hand-off of one event to whoever turns it into webhook deliveries (the api app).

The outbox knows no domain: orders registers "order.paid" and says when one happened; the
api app registers the publisher that finds the merchant's endpoints and queues one outbox
row (channel webhook) per endpoint, in the transaction of the change.

A domain action wraps its transaction in `publishing_once()`: every event it publishes then
shares one read of the endpoints and one INSERT of outbox rows, made just before the
transaction commits (an auto-allocated order publishes its own events and then its
shipments'). Outside one, each publish queues at once, as before.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone


@dataclass(frozen=True)
class WebhookEventType:
    # What receivers see in the payload's "type" ("order.paid").
    name: str
    # What the owner ticks on the Account page ("An order's payment is verified").
    label: str
    # What the event's data is ("order", "shipment"): the publisher renders it.
    about_type: str


@dataclass(frozen=True)
class PublishedEvent:
    """One event that happened to one of a merchant's things, to be sent to its endpoints."""

    name: str
    # Stable for this event: the idempotency of its deliveries and the `webhook-id` header.
    event_id: str
    merchant_id: int
    about_type: str
    about_id: str
    occurred_at: datetime.datetime
    # The thing itself when the caller holds it (saves the publisher a read).
    subject: Any = None


_event_types: dict[str, WebhookEventType] = {}
_publisher: list[Callable[[list[PublishedEvent]], Any]] = []


def register_webhook_event(name: str, *, label: str, about_type: str) -> WebhookEventType:
    """Add an event to the table endpoints subscribe to (call from an AppConfig.ready)."""
    event_type = WebhookEventType(name=name, label=label, about_type=about_type)
    _event_types[name] = event_type
    return event_type


def webhook_event_types() -> list[WebhookEventType]:
    """Every registered event, in the order the apps registered them."""
    return list(_event_types.values())


def webhook_event_type(name: str) -> WebhookEventType | None:
    return _event_types.get(name)


def register_webhook_publisher(publish: Callable[[list[PublishedEvent]], Any]) -> None:
    """Say who turns published events into deliveries (registering again replaces)."""
    _publisher[:] = [publish]


def publish_webhook_event(
    name: str,
    *,
    event_id: str,
    merchant_id: int,
    about_type: str,
    about_id,
    subject: Any = None,
    occurred_at: datetime.datetime | None = None,
) -> None:
    """Tell the merchant's endpoints that `name` happened; call inside the change's transaction.

    Nothing happens when no publisher is registered or no endpoint wants the event.
    """
    publish_webhook_events(
        [
            PublishedEvent(
                name=name,
                event_id=event_id,
                merchant_id=merchant_id,
                about_type=about_type,
                about_id=str(about_id),
                occurred_at=occurred_at or timezone.now(),
                subject=subject,
            )
        ]
    )


def publish_webhook_events(events: list[PublishedEvent]) -> None:
    """Several events at once (a batch of new orders): the publisher reads endpoints once."""
    for event in events:
        if event.name not in _event_types:
            raise LookupError(f"No webhook event “{event.name}” is registered.")
    if events and _publisher:
        _publisher[0](events)


# --- one publish per transaction ----------------------------------------------------------


@dataclass
class PublishBatch:
    """What one transaction's publishes share until it commits: what the publisher read once
    (`remembered`) and what it holds to write once (`hold`), flushed just before the commit."""

    remembered: dict = field(default_factory=dict)
    _held: list[tuple[Callable[[], None], Callable[[list], Any], list, int]] = field(default_factory=list)

    def hold(self, items: list, *, write: Callable[[list], Any], rank: int = 0) -> None:
        """Keep `items` to be written by `write(all items held for it)` just before the commit.

        The writers run in the order of their `rank`, lowest first (rows locked in one order by
        every transaction: see orderdesk.count_locks), then in the order they were first held.
        Items held inside a savepoint that is rolled back are dropped with it: each hold marks
        itself with an on_commit callback, which Django forgets on that rollback.
        """
        if not items:
            return

        def marker() -> None:
            pass

        transaction.on_commit(marker)
        self._held.append((marker, write, list(items), rank))

    def write_held(self, *, up_to_rank: int) -> None:
        """Write now (inside the transaction) what is held for the writers of rank `up_to_rank`
        or lower: before a statement that locks rows of a higher rank at once, not held."""
        self._write(lambda rank: rank <= up_to_rank)

    def _flush(self) -> None:
        self._write(lambda rank: True)

    def _write(self, wanted: Callable[[int], bool]) -> None:
        # Django's own record of the callbacks still due at commit: what a savepoint rollback removed
        # from it was rolled back, so its items go too (test_publish_once_per_transaction pins this).
        still_due = {id(func) for _, func, _ in transaction.get_connection().run_on_commit}
        by_writer: dict[Callable, tuple[int, list]] = {}
        kept = []
        for held in self._held:
            marker, write, items, rank = held
            if not wanted(rank):
                kept.append(held)
            elif id(marker) in still_due:
                by_writer.setdefault(write, (rank, []))[1].extend(items)
        self._held[:] = kept
        # sorted() keeps the writers of one rank in the order they were first held.
        for write, (_, items) in sorted(by_writer.items(), key=lambda writer: writer[1][0]):
            write(items)


_batch = threading.local()


def current_publish_batch() -> PublishBatch | None:
    """The batch of the publishing_once() transaction this thread is in, if any."""
    return getattr(_batch, "current", None)


@contextmanager
def publishing_once() -> Iterator[PublishBatch]:
    """A transaction (transaction.atomic) whose published events are queued together just before
    it commits: one read of the endpoints, one INSERT of their outbox rows.

    Nested, it joins the outer one, without a savepoint: an exception leaving the inner block
    rolls back the whole transaction (the outer caller, an API request's idempotent create,
    never carries on after one). An exception leaves nothing queued: the flush runs only when
    the body finished, inside the transaction, so a rollback after it takes the rows with it.
    """
    outer = current_publish_batch()
    if outer is not None:
        with transaction.atomic(savepoint=False):
            yield outer
        return
    batch = _batch.current = PublishBatch()
    try:
        with transaction.atomic():
            yield batch
            _batch.current = None
            batch._flush()
    finally:
        _batch.current = None
