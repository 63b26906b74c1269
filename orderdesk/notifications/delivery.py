"""Delivering the outbox: claim a row, send it, record what happened.

A row is claimed by one conditional UPDATE (pending → sending, or a stale
sending row whose lease ran out), which only one worker can win. The claim
sets `next_attempt_at` to the end of a lease; that exact timestamp then
identifies the claim, so a worker that lost its lease cannot overwrite the
outcome of a newer attempt. A row in `sent` is never claimed again.
"""

from __future__ import annotations

import datetime
import functools
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from orderdesk import rows
from orderdesk.compiled_queries import fixed_statement_cursor

from .errors import DeliveryFailed, PermanentFailure, TemporaryFailure
from .models import Notification
from .topics import compose_message, composing_together, sender_of

logger = logging.getLogger(__name__)


def deliver_after_commit(notification_ids: Iterable[int]) -> None:
    """Start delivering these rows once the current transaction commits (nothing if it rolls back)."""
    ids = list(notification_ids)
    if ids:
        transaction.on_commit(lambda: start_delivery(ids), robust=True)


def start_delivery(notification_ids: Iterable[int]) -> None:
    """Hand each row to the background job: a Celery task with a broker; without one, the
    web process's delivery thread, so a slow provider never holds up the request.

    Never raises: the request that caused the messages has already committed, and a
    row this misses (broker down, provider error) stays in the outbox for the sweep.
    """
    from orderdesk.celery import app

    from .tasks import deliver_notification_task

    ids = list(notification_ids)
    if app.conf.task_always_eager and settings.NOTIFICATION_DELIVERY_THREAD:
        from orderdesk.background import MESSAGES, background_jobs

        # One job for the action's messages: claimed in one statement, composed sharing one read.
        background_jobs.submit(
            MESSAGES,
            functools.partial(deliver_notifications, ids),
            about=f"notifications {', '.join(map(str, ids[:10]))}",
        )
        return
    if len(ids) > ONE_TASK_EACH_UP_TO:
        # A batch's messages (a store poll of many live orders): one publish per hundred rows.
        from .tasks import deliver_notifications_task

        for start in range(0, len(ids), ROWS_PER_BATCH_TASK):
            chunk = ids[start : start + ROWS_PER_BATCH_TASK]
            try:
                deliver_notifications_task.delay(chunk)
            except Exception:
                logger.exception("Could not start delivery of %s notifications; the sweep will.", len(chunk))
        return
    for notification_id in ids:
        try:
            deliver_notification_task.delay(notification_id)
        except Exception:
            logger.exception("Could not start delivery of notification %s; the sweep will.", notification_id)


# One action's few messages go out in parallel, a task each; a batch's share tasks.
ONE_TASK_EACH_UP_TO = 10
ROWS_PER_BATCH_TASK = 100


def deliver_notifications(notification_ids: Iterable[int]) -> None:
    """deliver_notification for each row in turn; one that fails to send never stops the rest.

    Rows are claimed a few at a time in one statement (never more than their lease covers at
    the longest send each), and their texts composed sharing what the composers read."""
    ids = list(notification_ids)
    together = max(
        1, settings.NOTIFICATION_SENDING_LEASE_SECONDS // (settings.NOTIFICATION_SEND_TIMEOUT_SECONDS + 5)
    )
    for start in range(0, len(ids), together):
        chunk = ids[start : start + together]
        now = timezone.now()
        try:
            claimed = _claim(chunk, now)
        except Exception:
            logger.exception("Notifications %s could not be claimed; the sweep will retry them.", chunk)
            continue
        with composing_together():
            for notification in claimed:
                try:
                    _send_claimed(notification, now)
                except Exception:
                    logger.exception(
                        "Notification %s could not be delivered; the sweep will retry it.", notification.pk
                    )


def deliver_notification(notification_id: int, *, now: datetime.datetime | None = None) -> str | None:
    """Send one row if it is due and nobody else holds it; returns its status after, or None if skipped."""
    now = now or timezone.now()
    claimed = _claim([notification_id], now)
    for notification in claimed:
        return _send_claimed(notification, now)
    return None


def deliver_due_notifications(*, now: datetime.datetime | None = None, limit: int = 200) -> dict[str, int]:
    """The sweep: send every row that is due (pending, or stuck in sending past its lease).

    Returns how many ended in each status. Rows other sweeps hold are skipped.
    """
    now = now or timezone.now()
    _give_up_on_stuck(now)
    with transaction.atomic():
        # On PostgreSQL, concurrent sweeps take disjoint rows; SQLite serializes them instead.
        due_ids = list(
            _due(Notification.objects.select_for_update(skip_locked=True), now)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        claimed = _claim(due_ids, now)
    outcomes: dict[str, int] = {}
    for notification in claimed:
        status = _send_claimed(notification, now)
        outcomes[status] = outcomes.get(status, 0) + 1
    return outcomes


def backoff_seconds(attempts: int) -> float:
    """The wait after the `attempts`-th failed attempt: doubling from the base, capped."""
    base = settings.NOTIFICATION_RETRY_BASE_SECONDS
    return float(min(base * 2 ** max(attempts - 1, 0), settings.NOTIFICATION_RETRY_MAX_SECONDS))


# --- the pieces -------------------------------------------------------------------


def _due(queryset, now: datetime.datetime):
    return queryset.filter(
        Q(status=Notification.Status.PENDING)
        | Q(status=Notification.Status.SENDING, attempts__lt=settings.NOTIFICATION_MAX_ATTEMPTS),
        next_attempt_at__lte=now,
    )


def _claim(ids: list[int], now: datetime.datetime) -> list[Notification]:
    """Claim the rows of `ids` that are due (pending, or sending past a lease not their last) for
    a lease from `now`, and return them with their merchant, in the outbox's order. One statement
    on PostgreSQL (the UPDATE … RETURNING joined to the merchants in a WITH); on SQLite the
    UPDATE … RETURNING and a read of the merchants. Every message sent is claimed: the ORM's
    update, then its read back, cost more than the sending around them."""
    if not ids:
        return []
    lease_until = now + datetime.timedelta(seconds=settings.NOTIFICATION_SENDING_LEASE_SECONDS)
    timestamp = _NOTIFICATION_FIELD["next_attempt_at"].get_db_prep_value
    params = [
        Notification.Status.SENDING,
        timestamp(lease_until, connection),
        timestamp(now, connection),
        Notification.Status.PENDING,
        Notification.Status.SENDING,
        settings.NOTIFICATION_MAX_ATTEMPTS,
    ]
    width = len(_NOTIFICATION_FIELD)
    with fixed_statement_cursor() as cursor:
        if connection.vendor == "postgresql":
            # One id (a transition's message, the usual case) is compared as one: PostgreSQL then
            # keeps the prepared statement's one plan; for an array it planned every claim anew.
            one = len(ids) == 1
            cursor.execute(
                _claim_sql(connection.vendor, 1 if one else 0), [*params, ids[0] if one else list(ids)]
            )
            found = cursor.fetchall()
            claimed = []
            for row in found:
                notification = rows.instance(Notification, row[:width])
                # A message of no merchant's (an operator's) joins none: its merchant is None.
                merchant = (
                    rows.instance(Merchant, row[width:]) if notification.merchant_id is not None else None
                )
                _NOTIFICATION_MERCHANT.set_cached_value(notification, merchant)
                claimed.append(notification)
        else:
            cursor.execute(_claim_sql(connection.vendor, len(ids)), [*params, *ids])
            claimed = [rows.instance(Notification, row) for row in cursor.fetchall()]
            merchant_ids = sorted({n.merchant_id for n in claimed if n.merchant_id is not None})
            if merchant_ids:
                merchants = {
                    merchant.pk: merchant for merchant in Merchant.objects.filter(pk__in=merchant_ids)
                }
                for notification in claimed:
                    _NOTIFICATION_MERCHANT.set_cached_value(
                        notification, merchants.get(notification.merchant_id)
                    )
    claimed.sort(key=lambda notification: (notification.created_at, notification.pk))
    return claimed


_NOTIFICATION_MERCHANT = Notification._meta.get_field("merchant")
Merchant = _NOTIFICATION_MERCHANT.related_model


@functools.cache
def _claim_sql(vendor: str, ids: int) -> str:
    """The claim's UPDATE (parameters: sending, the lease's end, now, pending, sending, the most
    attempts, then the ids: on PostgreSQL one array (`ids` 0) or one id (`ids` 1), on SQLite
    `ids` values), returning the rows' columns and, on PostgreSQL, their merchant's after them."""
    quote = connection.ops.quote_name
    table = quote(Notification._meta.db_table)
    column = {name: quote(field.column) for name, field in _NOTIFICATION_FIELD.items()}
    returned = ", ".join(column.values())
    if vendor != "postgresql":
        wanted = f"{column['id']} IN ({', '.join(['%s'] * ids)})"
    else:
        wanted = f"{column['id']} = %s" if ids == 1 else f"{column['id']} = ANY(%s)"
    update = (
        f"UPDATE {table} SET {column['status']} = %s, {column['attempts']} = {column['attempts']} + 1, "
        f"{column['next_attempt_at']} = %s WHERE {column['next_attempt_at']} <= %s AND ({column['status']} = %s "
        f"OR ({column['status']} = %s AND {column['attempts']} < %s)) AND {wanted} RETURNING {returned}"
    )
    if vendor != "postgresql":
        return update
    merchant_columns = ", ".join(
        f"{quote('m')}.{quote(field.column)}" for field in Merchant._meta.concrete_fields
    )
    claimed_columns = ", ".join(f"{quote('c')}.{name}" for name in column.values())
    return (
        f"WITH {quote('c')} AS ({update}) SELECT {claimed_columns}, {merchant_columns} FROM {quote('c')} "
        f"LEFT JOIN {quote(Merchant._meta.db_table)} {quote('m')} ON {quote('m')}.{quote(Merchant._meta.pk.column)} = "
        f"{quote('c')}.{column['merchant']}"
    )


def _give_up_on_stuck(now: datetime.datetime) -> None:
    """Rows whose last allowed attempt never finished (the worker died mid-send) are failed."""
    stuck = Notification.objects.filter(
        status=Notification.Status.SENDING,
        attempts__gte=settings.NOTIFICATION_MAX_ATTEMPTS,
        next_attempt_at__lte=now,
    )
    count = stuck.update(
        status=Notification.Status.FAILED,
        last_error="The last attempt never finished (the sending process stopped); not sent again.",
    )
    if count:
        logger.warning("Marked %d notifications failed after an unfinished last attempt.", count)


def _send_claimed(notification: Notification, now: datetime.datetime) -> str:
    claim = Notification.objects.filter(
        pk=notification.pk,
        status=Notification.Status.SENDING,
        next_attempt_at=notification.next_attempt_at,
    )
    composed = {}
    try:
        if notification.composed_at is None:
            composed = _compose(notification)
        provider_message_id = _send(notification)
    except DeliveryFailed as failure:
        return _record_failure(claim, notification, failure, now, composed)
    except Exception as failure:
        logger.exception("Notification %s: unexpected error while sending.", notification.pk)
        return _record_failure(claim, notification, TemporaryFailure(repr(failure)[:2000]), now, composed)
    recorded = _update_claimed(
        notification,
        **composed,
        status=Notification.Status.SENT,
        sent_at=timezone.now(),
        provider_message_id=provider_message_id[:255],
        last_error="",
    )
    if not recorded:
        logger.warning("Notification %s was sent, but its claim had lapsed.", notification.pk)
    logger.info(
        "Notification %s sent (%s to %s).", notification.pk, notification.channel, notification.recipient
    )
    return Notification.Status.SENT


def _compose(notification: Notification) -> dict:
    """Compose the text now, outside the causing transaction; the fields to keep it by, which
    are written with the attempt's outcome (sent, or failed and when to try again) in the same
    UPDATE: every later attempt sends the same words, and the admin shows what was sent. (Written
    in an UPDATE of its own before the send, it cost each message a statement more.)"""
    composed = compose_message(notification)
    notification.subject = " ".join(composed.subject.split())[:255]
    notification.body = composed.body
    notification.html_body = composed.html_body
    notification.composed_at = timezone.now()
    return {
        "subject": notification.subject,
        "body": notification.body,
        "html_body": notification.html_body,
        "composed_at": notification.composed_at,
    }


def _update_claimed(notification: Notification, **values) -> int:
    """`claim.update(**values)` for the row of this claim (its id, sending, its lease's end), in
    plain SQL built once per set of fields: every message sent runs one of these, and the ORM's
    compiling of each cost more than running it. Returns the rows changed (0: the claim lapsed)."""
    names = tuple(values)
    fields = [_NOTIFICATION_FIELD[name] for name in names]
    params = [
        field.get_db_prep_save(values[name], connection) for name, field in zip(names, fields, strict=True)
    ]
    params += [
        notification.pk,
        Notification.Status.SENDING,
        _NOTIFICATION_FIELD["next_attempt_at"].get_db_prep_value(notification.next_attempt_at, connection),
    ]
    with fixed_statement_cursor() as cursor:
        cursor.execute(_update_claimed_sql(connection.vendor, names), params)
        return cursor.rowcount


_NOTIFICATION_FIELD = {field.name: field for field in Notification._meta.concrete_fields}


@functools.cache
def _update_claimed_sql(vendor: str, names: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    column = {name: quote(field.column) for name, field in _NOTIFICATION_FIELD.items()}
    return (
        f"UPDATE {quote(Notification._meta.db_table)} SET {', '.join(f'{column[n]} = %s' for n in names)} "
        f"WHERE {column['id']} = %s AND {column['status']} = %s AND {column['next_attempt_at']} = %s"
    )


def _send(notification: Notification) -> str:
    if notification.channel == Notification.Channel.EMAIL:
        from .mail import send_email

        return send_email(notification)
    if notification.channel != Notification.Channel.SMS:
        send = sender_of(notification.channel)
        if send is None:
            raise PermanentFailure(f"Nothing is registered to send on the {notification.channel} channel.")
        return send(notification)
    from .sms import OutgoingSms, get_sms_backend

    backend = get_sms_backend()
    return backend.send(
        OutgoingSms(
            to=notification.recipient,
            sender=sms_sender_name(notification.merchant),
            body=notification.body,
            idempotency_key=notification.idempotency_key,
        )
    )


def sms_sender_name(merchant) -> str:
    """SMS_SENDER_NAME when the operator set one, else the merchant's short name."""
    return settings.SMS_SENDER_NAME or merchant.short_name


def _record_failure(
    claim, notification: Notification, failure: DeliveryFailed, now, composed: dict | None = None
) -> str:
    """The failed attempt's outcome, with the text it composed (`composed`), if any."""
    error = str(failure)[:2000]
    composed = composed or {}
    if not failure.retryable or notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        claim.update(**composed, status=Notification.Status.FAILED, last_error=error)
        logger.warning("Notification %s failed for good: %s", notification.pk, error)
        return Notification.Status.FAILED
    wait = max(backoff_seconds(notification.attempts), failure.retry_after or 0)
    claim.update(
        **composed,
        status=Notification.Status.PENDING,
        last_error=error,
        next_attempt_at=now + datetime.timedelta(seconds=wait),
    )
    logger.info(
        "Notification %s: attempt %d failed (%s); next in %ds.",
        notification.pk,
        notification.attempts,
        error,
        wait,
    )
    _schedule_retry(notification.pk, wait)
    return Notification.Status.PENDING


def _schedule_retry(notification_id: int, wait: float) -> None:
    """With a Celery broker, ask for the next attempt when it is due; in-process, the sweep does."""
    from orderdesk.celery import app

    from .tasks import deliver_notification_task

    if app.conf.task_always_eager:
        return
    try:
        deliver_notification_task.apply_async((notification_id,), countdown=wait)
    except Exception:
        logger.exception("Could not schedule the retry of notification %s; the sweep will.", notification_id)
