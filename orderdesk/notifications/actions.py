"""The write side of notifications: the merchant's switches, queueing order messages in the
outbox, and resending.

Rows are written in the transaction of the order change that causes them and
delivered after it commits (orderdesk.notifications.delivery).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.permissions import Permission, ensure_can
from orderdesk.orders import events
from orderdesk.orders.models import Order, OrderEvent

from .compose import compose
from .delivery import deliver_after_commit
from .errors import NotificationNotFound, ResendRefused
from .models import Notification, NotificationPreference


def preferences_for(merchant) -> NotificationPreference:
    """The merchant's switches; all on (unsaved defaults) until they change one."""
    try:
        return NotificationPreference.objects.get(merchant=merchant)
    except NotificationPreference.DoesNotExist:
        return NotificationPreference(merchant=merchant)


def update_notification_preferences(*, by: Actor, **switches: bool) -> NotificationPreference:
    """Turn the actor's merchant's notification switches on or off; owners only.

    Takes any of NotificationPreference.SWITCHES by name; those left out keep their value.
    The row is created on the first change. Raises NotAllowed (staff).
    """
    unknown = sorted(set(switches) - set(NotificationPreference.SWITCHES))
    if unknown:
        raise TypeError(f"No such notification switch: {', '.join(unknown)}")
    ensure_can(by, Permission.CHOOSE_NOTIFICATIONS)
    with transaction.atomic():
        preferences, _ = NotificationPreference.objects.select_for_update().get_or_create(
            merchant=by.merchant
        )
        for name, on in switches.items():
            setattr(preferences, name, bool(on))
        preferences.save(update_fields=list(switches))
    return preferences


def recipients_for(order: Order, trigger: str) -> list[tuple[str, str, str]]:
    """(audience, channel, recipient) for each message this event causes, as the merchant chose."""
    merchant = order.merchant
    wanted: list[tuple[str, str, str]] = []
    if trigger in (OrderEvent.Kind.PAYMENT_VERIFIED, OrderEvent.Kind.COD_CONFIRMED):
        if merchant.notification_phone:
            wanted.append(
                (Notification.Audience.MERCHANT, Notification.Channel.SMS, merchant.notification_phone)
            )
        if merchant.notification_email:
            wanted.append(
                (Notification.Audience.MERCHANT, Notification.Channel.EMAIL, merchant.notification_email)
            )
    elif trigger in (OrderEvent.Kind.DISPATCHED, OrderEvent.Kind.FULFILLED, OrderEvent.Kind.CANCELLED):
        if order.customer_phone:
            wanted.append((Notification.Audience.CUSTOMER, Notification.Channel.SMS, order.customer_phone))
        if order.customer_email:
            wanted.append((Notification.Audience.CUSTOMER, Notification.Channel.EMAIL, order.customer_email))
    if not wanted:
        return wanted
    preferences = preferences_for(merchant)
    return [want for want in wanted if preferences.allows(trigger, want[1])]


def queue_order_notifications(order: Order, trigger: str) -> list[Notification]:
    """Write the outbox rows this order event causes, with their text; call inside the
    action's transaction. Delivery starts after commit; a rollback leaves nothing to send."""
    queued = []
    for audience, channel, recipient in recipients_for(order, trigger):
        composed = compose(order, trigger, channel)
        notification, created = Notification.objects.get_or_create(
            idempotency_key=f"order:{order.pk}:{trigger}:{channel}:{recipient}",
            defaults={
                "merchant_id": order.merchant_id,
                "order": order,
                "trigger": trigger,
                "audience": audience,
                "channel": channel,
                "recipient": recipient,
                "subject": composed.subject,
                "body": composed.body,
                "html_body": composed.html_body,
            },
        )
        if created:
            queued.append(notification)
    deliver_after_commit(n.pk for n in queued)
    return queued


def resend_notification(notification_id: int, *, by: Actor) -> Notification:
    """Give a failed message of the actor's merchant another full round of attempts.

    Writes a notification_resent event on the order; delivery starts after commit.
    Raises NotAllowed, NotificationNotFound (absent, or another merchant's), ResendRefused (not failed).
    """
    ensure_can(by, Permission.RESEND_NOTIFICATIONS)
    with transaction.atomic():
        try:
            notification = (
                Notification.objects.for_merchant(by.merchant)
                # Lock the message only: its order is null-able, outside the lock on PostgreSQL.
                .select_for_update(of=("self",))
                .select_related("order")
                .get(pk=notification_id)
            )
        except (Notification.DoesNotExist, ValueError, TypeError) as missing:
            raise NotificationNotFound() from missing
        if notification.status != Notification.Status.FAILED:
            raise ResendRefused(
                _NOT_RESENDABLE[notification.status].format(
                    channel=notification.get_channel_display(), recipient=notification.recipient
                )
            )
        last_error = notification.last_error
        notification.status = Notification.Status.PENDING
        notification.attempts = 0
        notification.next_attempt_at = timezone.now()
        notification.last_error = ""
        notification.save(update_fields=["status", "attempts", "next_attempt_at", "last_error"])
        if notification.order is not None:
            events.record_notification_resent(
                notification.order, by=by, notification=notification, last_error=last_error
            )
        deliver_after_commit([notification.pk])
    return notification


_NOT_RESENDABLE = {
    Notification.Status.PENDING: "The {channel} to {recipient} is still waiting to be sent.",
    Notification.Status.SENDING: "The {channel} to {recipient} is being sent right now.",
    Notification.Status.SENT: "The {channel} to {recipient} was already sent; it is not sent twice.",
}


def resend_failed_notifications(ids: Iterable[int] | None = None, *, label: str) -> list[Notification]:
    """An operator's retry of failed messages (all, or the given ids) across merchants.

    Each is resent as its merchant's system actor named `label`; ids that are not
    failed are left as they are and not returned.
    """
    failed = Notification.objects.filter(status=Notification.Status.FAILED).select_related("merchant")
    if ids is not None:
        failed = failed.filter(pk__in=list(ids))
    resent = []
    for notification in failed.order_by("pk"):
        try:
            resent.append(resend_notification(notification.pk, by=Actor.system(notification.merchant, label)))
        except ResendRefused:
            # Someone resent it (or it was sent) between the listing and now.
            continue
    return resent
