"""The outcome of a send is written only to the claim that sent it (plain-SQL updates of the
claimed row): a lapsed claim changes nothing, a current one records the text and the sending."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orderdesk.notifications import delivery
from orderdesk.notifications.models import Notification
from orderdesk.orders.tests.factories import pending_order
from orderdesk.orders.tests.messages import messages_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("notification_settings")]


def claimed_sms(owner):
    row = messages_of(pending_order(owner)).get(channel=Notification.Channel.SMS)
    now = row.next_attempt_at
    (claimed,) = delivery._claim([row.pk], now)
    return claimed, now


def test_the_current_claim_records_the_composed_text_and_the_sending(owner):
    claimed, now = claimed_sms(owner)

    assert delivery._send_claimed(claimed, now) == Notification.Status.SENT

    row = Notification.objects.get(pk=claimed.pk)
    assert row.status == Notification.Status.SENT and row.sent_at is not None and row.last_error == ""
    assert row.body == claimed.body and row.body and row.composed_at == claimed.composed_at


def test_a_lapsed_claim_overwrites_nothing(owner):
    claimed, now = claimed_sms(owner)
    newer_lease = claimed.next_attempt_at + datetime.timedelta(seconds=30)
    Notification.objects.filter(pk=claimed.pk).update(next_attempt_at=newer_lease)

    delivery._send_claimed(claimed, now)

    row = Notification.objects.get(pk=claimed.pk)
    assert row.status == Notification.Status.SENDING and row.sent_at is None
    assert row.composed_at is None and row.body == ""


def test_the_composed_text_and_the_sending_are_written_in_one_update(owner):
    claimed, now = claimed_sms(owner)

    with CaptureQueriesContext(connection) as captured:
        delivery._send_claimed(claimed, now)

    updates = [q["sql"] for q in captured.captured_queries if q["sql"].startswith('UPDATE "notifications_notification"')]  # fmt: skip
    assert len(updates) == 1 and '"body" = ' in updates[0] and '"sent_at" = ' in updates[0]
    row = Notification.objects.get(pk=claimed.pk)
    assert row.status == Notification.Status.SENT and row.body == claimed.body and row.body


def test_an_attempt_that_fails_for_good_keeps_the_text_it_composed(owner, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = blocker / "sms"  # the SMS file cannot be written
    settings.NOTIFICATION_MAX_ATTEMPTS = 1
    claimed, now = claimed_sms(owner)

    assert delivery._send_claimed(claimed, now) == Notification.Status.FAILED

    row = Notification.objects.get(pk=claimed.pk)
    assert row.status == Notification.Status.FAILED and row.last_error
    assert row.body == claimed.body and row.body and row.composed_at == claimed.composed_at
