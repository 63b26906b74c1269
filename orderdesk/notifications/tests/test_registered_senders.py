"""Channels beyond SMS and email are sent by whichever app registered a sender for them,
with the outbox's own claiming, composing and retries."""

import itertools

import pytest

from orderdesk.accounts.tests.factories import MerchantFactory
from orderdesk.notifications.actions import OutgoingMessage, queue_messages
from orderdesk.notifications.delivery import deliver_due_notifications
from orderdesk.notifications.errors import TemporaryFailure
from orderdesk.notifications.models import Notification
from orderdesk.notifications.topics import Composed, register_sender, register_topic

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


def webhook_to(merchant, topic) -> Notification:
    [row] = queue_messages(
        [
            OutgoingMessage(
                topic=topic.name,
                channel=Notification.Channel.WEBHOOK,
                audience=Notification.Audience.ENDPOINT,
                recipient="endpoint:1",
                idempotency_key=f"{topic.name}:1",
                merchant_id=merchant.pk,
                payload={"n": 1},
            )
        ]
    )
    return row


@pytest.fixture
def topic():
    return register_topic(
        f"test.hook.{next(_numbers)}",
        label="Test hook",
        compose=lambda n: Composed("", f"body {n.payload['n']}"),
    )


@pytest.fixture
def restore_webhook_sender():
    from orderdesk.notifications import topics

    before = topics.sender_of(Notification.Channel.WEBHOOK)
    yield
    if before is None:
        topics._senders.pop(Notification.Channel.WEBHOOK, None)
    else:
        register_sender(Notification.Channel.WEBHOOK, before)


def test_a_registered_sender_gets_the_composed_message_once(topic, restore_webhook_sender):
    sent = []
    register_sender(Notification.Channel.WEBHOOK, lambda n: sent.append((n.recipient, n.body)) or "peer-7")
    row = webhook_to(MerchantFactory(), topic)

    deliver_due_notifications()
    deliver_due_notifications()

    row.refresh_from_db()
    assert sent == [("endpoint:1", "body 1")]
    assert (row.status, row.provider_message_id) == (Notification.Status.SENT, "peer-7")


def test_a_senders_temporary_failure_is_retried_later(topic, restore_webhook_sender):
    def refuse(notification):
        raise TemporaryFailure("endpoint answered 503")

    register_sender(Notification.Channel.WEBHOOK, refuse)
    row = webhook_to(MerchantFactory(), topic)

    deliver_due_notifications()

    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (
        Notification.Status.PENDING,
        1,
        "endpoint answered 503",
    )


def test_a_channel_nobody_sends_on_fails_saying_so(topic, restore_webhook_sender):
    from orderdesk.notifications import topics

    topics._senders.pop(Notification.Channel.WEBHOOK, None)
    row = webhook_to(MerchantFactory(), topic)

    deliver_due_notifications()

    row.refresh_from_db()
    assert row.status == Notification.Status.FAILED
    assert "Nothing is registered to send on the webhook channel" in row.last_error
