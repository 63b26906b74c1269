"""The outbox on its own: queueing without a read, one message per key ever, text written
by the topic's composer when the worker sends it, preference rows. No domain app involved."""

import datetime
import itertools

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orderdesk.accounts.tests.factories import MerchantFactory
from orderdesk.notifications.actions import OutgoingMessage, queue_messages
from orderdesk.notifications.delivery import deliver_due_notifications
from orderdesk.notifications.errors import PermanentFailure
from orderdesk.notifications.models import Notification, NotificationPreference
from orderdesk.notifications.preferences import preferences_for
from orderdesk.notifications.topics import Composed, register_topic

from .fixtures import sms_files

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


@pytest.fixture
def note_topic():
    """A topic of this test's own whose composer writes from the payload and counts its calls."""
    calls = []

    def compose(notification):
        calls.append(notification.pk)
        return Composed(
            subject="", body=f"Note {notification.payload['number']} for {notification.recipient}"
        )

    topic = register_topic(f"test.note.{next(_numbers)}", label="Test note", compose=compose)
    return topic, calls


def sms_about(topic, merchant, *, key="k1", number=7) -> OutgoingMessage:
    return OutgoingMessage(
        topic=topic.name,
        channel=Notification.Channel.SMS,
        audience=Notification.Audience.CUSTOMER,
        recipient="+639175550101",
        idempotency_key=f"{topic.name}:{key}",
        merchant_id=merchant.pk,
        about_type="thing",
        about_id="42",
        payload={"number": number},
    )


def test_queueing_writes_the_messages_in_one_insert_without_reading_first(note_topic):
    topic, _ = note_topic
    merchant = MerchantFactory()

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        written = queue_messages([sms_about(topic, merchant, key="a"), sms_about(topic, merchant, key="b")])

    statements = [
        q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]
    assert len(statements) == 1 and statements[0].startswith("INSERT INTO")
    assert [row.pk for row in written] == list(
        Notification.objects.order_by("pk").values_list("pk", flat=True)
    )
    assert Notification.objects.count() == 2


def test_a_message_is_written_once_per_key_ever_and_a_repeat_is_skipped_without_an_error(note_topic):
    topic, _ = note_topic
    merchant = MerchantFactory()
    [first] = queue_messages([sms_about(topic, merchant, key="same", number=1)])

    again = queue_messages(
        [sms_about(topic, merchant, key="same", number=2), sms_about(topic, merchant, key="new")]
    )

    assert [row.idempotency_key for row in again] == [f"{topic.name}:new"]
    assert Notification.objects.count() == 2
    first.refresh_from_db()
    assert first.payload == {"number": 1}


def test_the_worker_writes_the_text_when_it_sends_and_every_later_attempt_sends_the_same_words(
    note_topic, settings, sms_folder, tmp_path, django_capture_on_commit_callbacks
):
    topic, calls = note_topic
    merchant = MerchantFactory()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings.SMS_FILE_PATH = blocker / "sms"  # the first attempt cannot write its file

    with django_capture_on_commit_callbacks(execute=False):
        [row] = queue_messages([sms_about(topic, merchant)])
    assert (row.body, row.composed_at, calls) == ("", None, [])

    with django_capture_on_commit_callbacks(execute=True):
        queue_messages([])  # nothing new; deliver what is due instead
        deliver_due_notifications()
    row.refresh_from_db()
    assert (row.status, row.attempts, row.body) == ("pending", 1, "Note 7 for +639175550101")
    assert row.composed_at is not None

    settings.SMS_FILE_PATH = sms_folder
    deliver_due_notifications(now=timezone.now() + datetime.timedelta(hours=1))

    row.refresh_from_db()
    assert row.status == "sent"
    assert calls == [row.pk]  # composed once, at the first attempt
    [sms] = sms_files(sms_folder)
    assert "Note 7 for +639175550101" in sms.read_text()


def test_a_message_queued_with_its_text_is_sent_as_it_is(django_capture_on_commit_callbacks):
    message = OutgoingMessage(
        topic="test.written",
        channel=Notification.Channel.EMAIL,
        audience=Notification.Audience.MERCHANT,
        recipient="owner@shop.example",
        idempotency_key="test.written:1",
        subject="Your sign-in link",
        body="Hello",
        html_body="<p>Hello</p>",
    )

    with django_capture_on_commit_callbacks(execute=True):
        [row] = queue_messages([message])

    [sent] = mail.outbox
    assert (sent.subject, sent.body, sent.to) == ("Your sign-in link", "Hello", ["owner@shop.example"])
    assert sent.alternatives[0][0] == "<p>Hello</p>"
    row.refresh_from_db()
    assert row.status == "sent" and row.merchant is None


def test_a_message_its_composer_cannot_write_fails_at_once_with_the_reason(
    sms_folder, django_capture_on_commit_callbacks
):
    def compose(notification):
        raise PermanentFailure("The thing this message is about no longer exists.")

    topic = register_topic(f"test.gone.{next(_numbers)}", label="Gone", compose=compose)

    with django_capture_on_commit_callbacks(execute=True):
        [row] = queue_messages([sms_about(topic, MerchantFactory())])

    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error == "The thing this message is about no longer exists."
    assert sms_files(sms_folder) == []


def test_no_preference_row_means_on_and_a_row_turns_one_kind_off_for_one_merchant():
    merchant, other = MerchantFactory(), MerchantFactory()
    NotificationPreference.objects.create(
        merchant=merchant, topic="test.note", channel="sms", audience="customer", enabled=False
    )
    NotificationPreference.objects.create(
        merchant=merchant, topic="test.note", channel="email", audience="customer", enabled=True
    )

    mine, theirs = preferences_for(merchant), preferences_for(other)

    assert not mine.allows("test.note", "sms", "customer")
    assert mine.allows("test.note", "email", "customer")
    assert mine.allows("test.note", "sms", "merchant")
    assert theirs.allows("test.note", "sms", "customer")


def test_a_batchs_many_rows_are_published_as_one_task_and_an_actions_few_one_task_each():
    from unittest import mock

    from orderdesk.notifications import delivery, tasks

    with (
        mock.patch.object(tasks.deliver_notifications_task, "delay") as batched,
        mock.patch.object(tasks.deliver_notification_task, "delay") as single,
    ):
        delivery.start_delivery(range(1, 151))
        assert [call.args[0] for call in batched.call_args_list] == [
            list(range(1, 101)),
            list(range(101, 151)),
        ]
        assert not single.called
        batched.reset_mock()
        delivery.start_delivery([7, 8])
        assert [call.args[0] for call in single.call_args_list] == [7, 8]
        assert not batched.called


@pytest.mark.django_db
def test_one_row_that_cannot_be_sent_does_not_stop_the_rest_of_a_batch_task():
    from types import SimpleNamespace
    from unittest import mock

    from orderdesk.notifications import delivery

    tried = []

    def send(notification, now):
        tried.append(notification.pk)
        if notification.pk == 2:
            raise RuntimeError("provider down")

    claimed = [SimpleNamespace(pk=pk) for pk in (1, 2, 3)]
    with (
        mock.patch.object(delivery, "_claim", return_value=claimed),
        mock.patch.object(delivery, "_send_claimed", side_effect=send),
    ):
        delivery.deliver_notifications([1, 2, 3])
    assert tried == [1, 2, 3]


@pytest.mark.postgres
def test_a_single_message_is_claimed_by_one_plan_kept_on_postgresql(note_topic, sms_folder):
    from orderdesk.notifications.delivery import deliver_notifications

    topic, _ = note_topic
    merchant = MerchantFactory()
    for number in range(14):
        [row] = queue_messages([sms_about(topic, merchant, key=f"one-{number}", number=number)])
        deliver_notifications([row.pk])
        row.refresh_from_db()
        assert row.status == "sent"
    # Two at once still go together, by the array form.
    pair = queue_messages([sms_about(topic, merchant, key=f"pair-{n}") for n in range(2)])
    deliver_notifications([row.pk for row in pair])
    assert {row.status for row in Notification.objects.filter(pk__in=[row.pk for row in pair])} == {"sent"}

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ['%UPDATE "notifications_notification" SET "status"%'],
        )
        [(generic, custom)] = cursor.fetchall()
    # Prepared at its fifth run (psycopg's threshold), then planned for its values at its first
    # five runs as one (PostgreSQL's rule) and never again: its one plan is kept.
    assert custom == 5 and generic >= 3, (generic, custom)
