"""The write side of the outbox: queueing messages, the merchant's switches, and resending.

Rows are written in the transaction of the change that causes them and delivered
after it commits (orderdesk.notifications.delivery); the worker writes their text.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from orderdesk.compiled_queries import fixed_statement_cursor

from .delivery import deliver_after_commit
from .errors import NotificationNotFound, ResendRefused
from .models import Notification, NotificationPreference
from .preferences import preferences_for, switches
from .topics import CHOOSE_NOTIFICATIONS, RESEND_NOTIFICATIONS, Acting, tell_resent

__all__ = [
    "OutgoingMessage",
    "preferences_for",
    "queue_messages",
    "resend_failed_notifications",
    "resend_notification",
    "update_notification_preferences",
]


@dataclass(frozen=True)
class OutgoingMessage:
    """A message to queue: to whom, on which channel, about what, and what its composer needs.

    Give `body` (and `subject`, `html_body`) only for a message written already; otherwise
    the topic's registered composer writes it when the worker sends it.
    """

    topic: str
    channel: str
    audience: str
    recipient: str
    # One message per key, ever: queueing the same key again is skipped.
    idempotency_key: str
    merchant_id: int | None = None
    about_type: str = ""
    about_id: str = ""
    payload: dict = field(default_factory=dict)
    subject: str = ""
    body: str = ""
    html_body: str = ""


def queue_messages(messages: Sequence[OutgoingMessage]) -> list[Notification]:
    """Write these messages to the outbox in one statement, skipping keys already there;
    call inside the causing action's transaction. Returns the rows written (with their ids).

    Delivery starts after commit; a rollback leaves nothing to send.
    """
    if not messages:
        return []
    now = timezone.now()
    rows = [
        Notification(
            merchant_id=message.merchant_id,
            topic=message.topic,
            about_type=message.about_type,
            about_id=str(message.about_id),
            payload=message.payload,
            audience=message.audience,
            channel=message.channel,
            recipient=message.recipient,
            subject=message.subject,
            body=message.body,
            html_body=message.html_body,
            composed_at=now if message.body else None,
            idempotency_key=message.idempotency_key,
            created_at=now,
            next_attempt_at=now,
        )
        for message in messages
    ]
    written = _insert_skipping_known_keys(rows)
    deliver_after_commit(row.pk for row in written)
    return written


def _insert_skipping_known_keys(rows: list[Notification]) -> list[Notification]:
    """INSERT … ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, idempotency_key.

    No read before the write, and no error on a repeat: the database keeps one row per
    key and tells which rows it wrote (PostgreSQL and SQLite ≥ 3.35 both do).
    """
    meta = Notification._meta
    fields, converted = _notification_columns()
    quote = connection.ops.quote_name
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    key_column = quote(meta.get_field("idempotency_key").column)
    written_ids = {}
    with fixed_statement_cursor() as cursor:
        # A batch's rows in as few statements as the database's parameter limit allows.
        per_statement = max(1, min(len(rows), 30_000 // len(fields), 1000))
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            sql = (
                f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
                f"VALUES {', '.join([placeholders] * len(chunk))} "
                f"ON CONFLICT ({key_column}) DO NOTHING RETURNING {quote(meta.pk.column)}, {key_column}"
            )
            # Only the payload and the times need the field's conversion (no field is auto_now,
            # so pre_save is the value as it is); the rest go as they are. This runs inside
            # every placement and paid order, where a conversion call per value was most of it.
            params = [
                convert(value, connection) if convert and value is not None else value
                for row in chunk
                for attname, convert in converted
                for value in (row.__dict__[attname],)
            ]
            cursor.execute(sql, params)
            written_ids.update((key, pk) for pk, key in cursor.fetchall())
    written = []
    for row in rows:
        if row.idempotency_key in written_ids:
            row.pk = written_ids.pop(row.idempotency_key)
            row._state.adding = False
            written.append(row)
    return written


@functools.cache
def _notification_columns() -> tuple[list, list]:
    """Notification's columns but the id, and (attname, its converter or None) of each."""
    fields = [f for f in Notification._meta.concrete_fields if not f.primary_key]
    assert not any(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) for f in fields)
    return fields, [(f.attname, _converter(f)) for f in fields]


def _converter(field):
    """(value, connection) → the query parameter; None when the value goes as it is. A time
    (aware, of timezone.now()) needs only the backend's adaptation, not the field's checks."""
    if field.get_internal_type() in _PASSED_AS_THEY_ARE:
        return None
    if field.get_internal_type() == "DateTimeField":
        return lambda value, connection: connection.ops.adapt_datetimefield_value(value)
    return field.get_db_prep_save


# Field types whose Python values both databases take as they are.
_PASSED_AS_THEY_ARE = frozenset(
    {"CharField", "TextField", "ForeignKey", "PositiveSmallIntegerField", "BigAutoField"}
)


def update_notification_preferences(*, by: Acting, **choices: bool) -> None:
    """Turn the actor's merchant's notification switches on or off; owners only.

    Takes registered switch names (orderdesk.notifications.preferences.switches); those
    left out keep their value. Raises NotAllowed (staff).
    """
    known = switches()
    unknown = sorted(set(choices) - set(known))
    if unknown:
        raise TypeError(f"No such notification switch: {', '.join(unknown)}")
    by.ensure_can(CHOOSE_NOTIFICATIONS)
    if not choices:
        return
    NotificationPreference.objects.bulk_create(
        [
            NotificationPreference(
                merchant=by.merchant,
                topic=known[name].topic,
                channel=known[name].channel,
                audience=known[name].audience,
                enabled=bool(on),
            )
            for name, on in choices.items()
        ],
        update_conflicts=True,
        unique_fields=["merchant", "topic", "channel", "audience"],
        update_fields=["enabled"],
    )


def resend_notification(notification_id: int, *, by: Acting) -> Notification:
    """Give a failed message of the actor's merchant another full round of attempts.

    Its topic is told (an order message writes a notification_resent event); delivery
    starts after commit. Raises NotAllowed, NotificationNotFound (absent, or another
    merchant's), ResendRefused (not failed).
    """
    by.ensure_can(RESEND_NOTIFICATIONS)
    return _resend(notification_id, merchant=by.merchant, by=by, label="")


def _resend(notification_id: int, *, merchant, by: Acting | None, label: str) -> Notification:
    with transaction.atomic():
        try:
            notification = (
                Notification.objects.for_merchant(merchant).select_for_update().get(pk=notification_id)
            )
        except (Notification.DoesNotExist, ValueError, TypeError) as missing:
            raise NotificationNotFound() from missing
        if not notification.can_be_resent:
            raise ResendRefused(
                _NOT_RESENDABLE[notification.status].format(
                    channel=notification.get_channel_display(), recipient=notification.recipient
                )
            )
        last_error = _give_another_round(notification)
        tell_resent(notification, by=by, label=label, last_error=last_error)
        deliver_after_commit([notification.pk])
    return notification


def _give_another_round(notification: Notification) -> str:
    """Back to pending with no attempts counted; returns the error it had."""
    last_error = notification.last_error
    notification.status = Notification.Status.PENDING
    notification.attempts = 0
    notification.next_attempt_at = timezone.now()
    notification.last_error = ""
    notification.save(update_fields=["status", "attempts", "next_attempt_at", "last_error"])
    return last_error


# What a message that cannot be resent (see Notification.can_be_resent) is doing instead.
_NOT_RESENDABLE = {
    Notification.Status.PENDING: "The {channel} to {recipient} is still waiting to be sent.",
    Notification.Status.SENDING: "The {channel} to {recipient} is being sent right now.",
    Notification.Status.SENT: "The {channel} to {recipient} was already sent; it is not sent twice.",
}


def resend_failed_notifications(ids: Iterable[int] | None = None, *, label: str) -> list[Notification]:
    """An operator's retry of failed messages (all, or the given ids) across merchants.

    Each is resent by the system named `label` (an operator needs no shop role); ids
    that are not failed are left as they are and not returned.
    """
    failed = Notification.objects.filter(status=Notification.Status.FAILED).select_related("merchant")
    if ids is not None:
        failed = failed.filter(pk__in=list(ids))
    resent = []
    for notification in failed.order_by("pk"):
        if notification.merchant is None:
            resent.extend(_resend_without_merchant(notification.pk))
            continue
        try:
            resent.append(_resend(notification.pk, merchant=notification.merchant, by=None, label=label))
        except ResendRefused:
            # Someone resent it (or it was sent) between the listing and now.
            continue
    return resent


def _resend_without_merchant(notification_id: int) -> list[Notification]:
    """A message to a person of no shop (an operator's own email): no timeline to tell."""
    with transaction.atomic():
        notification = Notification.objects.select_for_update().get(pk=notification_id)
        if notification.status != Notification.Status.FAILED:
            return []
        _give_another_round(notification)
        deliver_after_commit([notification.pk])
    return [notification]
