"""The messages store sync sends through the outbox, and what StoresConfig.ready registers:

- the tracking push to the store (`tracking.py`, on the outbox's store channel);
- one summary to the merchant at the end of a backfill (no message per backfilled order);
- one email to the owners when a store first refuses Orderdesk's credentials.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.models import Membership
from orderdesk.notifications.actions import OutgoingMessage, queue_messages
from orderdesk.notifications.errors import PermanentFailure
from orderdesk.notifications.models import Notification
from orderdesk.notifications.preferences import preferences_for
from orderdesk.notifications.sms.segments import fit_sms
from orderdesk.notifications.topics import register_sender, register_topic
from orderdesk.orders import events as order_events
from orderdesk.orders.handovers import listen_for_handovers
from orderdesk.orders.links import order_path
from orderdesk.orders.models import Order

from .models import Store, SyncRun
from .tracking import TRACKING_TOPIC, compose_tracking, push_tracking, queue_tracking_push

BACKFILL_TOPIC = "store.backfilled"
BROKEN_TOPIC = "store.connection_broken"
# A backfill's summary goes where the merchant hears of paid orders (their "payment" switch).
_PAID_ORDER_TOPIC = "order.payment_verified"


def store_page_url(store: Store) -> str:
    return settings.SITE_URL + reverse("stores:detail", args=[store.pk])


def queue_backfill_summary(store: Store, run: SyncRun) -> list[Notification]:
    """The one message a backfill sends the merchant ("42 paid orders from … are in Order
    Tracking"), on each channel the merchant hears of paid orders on; nothing when none came."""
    if not run.new_count:
        return []
    merchant = store.merchant
    count = run.new_count
    said = (
        f"{count} paid order{'s' if count != 1 else ''} from {store.name} "
        f"{'are' if count != 1 else 'is'} in Order Tracking."
    )
    link = settings.SITE_URL + reverse("orders:tracking")
    wanted = []
    if merchant.notification_phone:
        wanted.append((Notification.Channel.SMS, merchant.notification_phone))
    if merchant.notification_email:
        wanted.append((Notification.Channel.EMAIL, merchant.notification_email))
    preferences = preferences_for(merchant) if wanted else None
    return queue_messages(
        [
            OutgoingMessage(
                topic=BACKFILL_TOPIC,
                channel=channel,
                audience=Notification.Audience.MERCHANT,
                recipient=recipient,
                idempotency_key=f"store:{store.pk}:backfill:{run.pk}:{channel}:{recipient}",
                merchant_id=merchant.pk,
                about_type="store",
                about_id=str(store.pk),
                payload={"store_id": store.pk, "run_id": run.pk, "new": count},
                subject=" ".join(said.split())[:255] if channel == Notification.Channel.EMAIL else "",
                body=(
                    fit_sms(f"{merchant.short_name}: {said}", keep=link)
                    if channel == Notification.Channel.SMS
                    else f"{said}\n\nThey were paid and not yet fulfilled in {store.name}; "
                    f"dispatch them from Order Tracking:\n{link}\n"
                ),
            )
            for channel, recipient in wanted
            if preferences.allows(_PAID_ORDER_TOPIC, channel, Notification.Audience.MERCHANT)
        ]
    )


def queue_connection_broken(store: Store) -> list[Notification]:
    """Tell the shop's owners, by email, that the store refused Orderdesk's credentials: once
    per breakage (the key names when it broke). Call inside the transaction that marks it."""
    owners = (
        Membership.objects.filter(merchant_id=store.merchant_id, role=Membership.Role.OWNER)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
        .order_by("pk")
    )
    since = store.broken_since.isoformat() if store.broken_since else ""
    link = store_page_url(store)
    return queue_messages(
        [
            OutgoingMessage(
                topic=BROKEN_TOPIC,
                channel=Notification.Channel.EMAIL,
                audience=Notification.Audience.MERCHANT,
                recipient=email,
                idempotency_key=f"store:{store.pk}:broken:{since}:{email}"[:200],
                merchant_id=store.merchant_id,
                about_type="store",
                about_id=str(store.pk),
                payload={"store_id": store.pk},
                subject=f"{store.name} refused Orderdesk's credentials"[:255],
                body=(
                    f"{store.name} refused the credentials Orderdesk uses to read its orders:\n"
                    f"{store.last_sync_error}\n\n"
                    "New orders from this store stop arriving in Order Tracking until you enter new "
                    f"credentials (a new access token, or new REST API keys) on the store's page:\n{link}\n\n"
                    "You hear of this once; syncing starts again by itself when the store accepts them.\n"
                ),
            )
            for email in owners
        ]
    )


def _store_page(notification: Notification) -> str:
    return reverse("stores:detail", args=[int(notification.about_id)])


def _order_page(notification: Notification) -> str:
    return order_path(int(notification.about_id))


def _record_tracking_resent(notification: Notification, *, by, label: str, last_error: str) -> None:
    order = Order.objects.select_related("merchant", "store").get(pk=notification.payload["order_id"])
    if by is None:
        by = Actor.system(order.merchant, label)
    order_events.record_notification_resent(order, by=by, notification=notification, last_error=last_error)


def send_on_store_channel(notification: Notification) -> str:
    """The outbox's sender for the store channel: the one message a store is sent is tracking."""
    if notification.topic == TRACKING_TOPIC:
        return push_tracking(notification)
    raise PermanentFailure(f"Nothing is sent to a store for “{notification.topic}”.")


def register_store_messages() -> None:
    """Tell the outbox and the order actions about store sync's messages (StoresConfig.ready)."""
    register_topic(
        TRACKING_TOPIC,
        label="Tracking sent to the store",
        compose=compose_tracking,
        page=_order_page,
        resent=_record_tracking_resent,
    )
    register_topic(BACKFILL_TOPIC, label="Store backfill done", page=_store_page)
    register_topic(BROKEN_TOPIC, label="Store refused the credentials", page=_store_page)
    register_sender(Notification.Channel.STORE, send_on_store_channel)
    listen_for_handovers(queue_tracking_push)
