"""An action's messages (the customer's SMS and email of a dispatch) are delivered as one job:
claimed in one statement, their texts composed from one read of the order and its shipment."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orderdesk.notifications import delivery
from orderdesk.notifications.models import Notification
from orderdesk.notifications.tests.fixtures import sms_files
from orderdesk.orders import actions

from .factories import pending_order
from .messages import messages_of

pytestmark = pytest.mark.django_db


def test_a_dispatchs_sms_and_email_are_claimed_together_and_read_the_order_once(
    owner, sms_folder, mailoutbox, django_capture_on_commit_callbacks
):
    actor = owner
    order = pending_order(actor)
    with django_capture_on_commit_callbacks():  # delivered below, by hand
        actions.dispatch_order(
            order.pk,
            by=actor,
            delivery_reference="JT777",
            expected_on=timezone.localdate(timezone=actor.merchant.zone) + datetime.timedelta(days=2),
        )
    rows = list(messages_of(order).filter(topic="order.dispatched"))
    assert sorted(row.channel for row in rows) == ["email", "sms"]

    with CaptureQueriesContext(connection) as captured:
        delivery.deliver_notifications([row.pk for row in rows])

    statements = [q["sql"] for q in captured.captured_queries]
    # The claim: an UPDATE (inside a WITH on PostgreSQL, which reads the merchants beside it).
    claims = [
        sql for sql in statements if 'UPDATE "notifications_notification" SET "status" = \'sending\'' in sql
    ]
    order_reads = [sql for sql in statements if sql.startswith("SELECT") and 'FROM "orders_order"' in sql]
    shipment_reads = [sql for sql in statements if sql.startswith("SELECT") and 'FROM "fulfillment_fulfillment"' in sql]  # fmt: skip
    assert len(claims) == 1 and len(order_reads) == 1 and len(shipment_reads) == 1, statements
    assert set(Notification.objects.filter(pk__in=[r.pk for r in rows]).values_list("status", flat=True)) == {
        "sent"
    }
    [sms] = sms_files(sms_folder)
    assert "JT777" in sms.read_text()
    assert "JT777" in mailoutbox[-1].body
