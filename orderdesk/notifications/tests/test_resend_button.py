import itertools

import pytest
from django.template.loader import render_to_string

from orderdesk.accounts.tests.factories import MerchantFactory
from orderdesk.notifications.actions import OutgoingMessage, queue_messages
from orderdesk.notifications.models import Notification
from orderdesk.notifications.topics import Composed, register_topic

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


@pytest.mark.parametrize("status", Notification.Status.values)
def test_the_resend_button_is_offered_exactly_for_a_message_that_can_be_resent(status):
    topic = register_topic(
        f"test.resend.{next(_numbers)}", label="Test note", compose=lambda n: Composed(subject="", body="Hi")
    )
    merchant = MerchantFactory()
    [message] = queue_messages(
        [
            OutgoingMessage(
                merchant_id=merchant.pk,
                topic=topic.name,
                audience=Notification.Audience.MERCHANT,
                channel=Notification.Channel.SMS,
                recipient="+639171234567",
                idempotency_key=f"test:resend:{status}",
            )
        ]
    )
    Notification.objects.filter(pk=message.pk).update(status=status)
    message.refresh_from_db()

    html = render_to_string(
        "notifications/_messages.html", {"about_type": "test", "messages_about": [message]}
    )

    assert message.can_be_resent == (status == Notification.Status.FAILED)
    assert ("Resend</button>" in html) == message.can_be_resent
