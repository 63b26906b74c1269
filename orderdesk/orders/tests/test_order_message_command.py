import datetime

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from orderdesk.notifications.models import Notification
from orderdesk.notifications.tests.fixtures import sms_files
from orderdesk.notifications.tests.peers import free_port
from orderdesk.orders import actions
from orderdesk.orders.models import OrderEvent
from orderdesk.orders.tests.factories import awaiting_order
from orderdesk.orders.tests.messages import order_of

from .messages import merchant_sms, pay

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("notification_settings")]


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command("notifications", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def sms_down(settings, sms_folder):
    """Twilio unreachable until the test puts SMS back on files."""
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "AC1", "token"
    settings.TWILIO_API_BASE = f"http://127.0.0.1:{free_port()}"
    return settings


def test_list_shows_messages_and_filters_by_status(sms_down, actor, django_capture_on_commit_callbacks):
    waiting = merchant_sms(pay(actor, django_capture_on_commit_callbacks))

    everything = run("list")
    pending_only = run("list", "--status", "pending")
    sent_only = run("list", "--status", "sent")

    assert f"{waiting.pk:>6}  pending" in everything
    assert f"order {order_of(waiting).pk} " in pending_only
    assert "could not be reached" in pending_only
    assert sent_only == "No messages with status sent.\n"


def test_sweep_sends_what_is_due(sms_down, sms_folder, actor, django_capture_on_commit_callbacks):
    waiting = merchant_sms(pay(actor, django_capture_on_commit_callbacks))
    assert run("sweep") == "Nothing was due.\n"

    sms_down.SMS_BACKEND = "file"
    Notification.objects.filter(pk=waiting.pk).update(next_attempt_at=timezone.now() - datetime.timedelta(1))
    assert run("sweep") == "Swept: 1 sent.\n"
    assert len(sms_files(sms_folder)) == 1


def test_retry_sends_every_failed_message_again_and_notes_it_on_each_order(
    sms_down, sms_folder, actor, django_capture_on_commit_callbacks
):
    sms_down.NOTIFICATION_MAX_ATTEMPTS = 1
    failed = [merchant_sms(pay(actor, django_capture_on_commit_callbacks)) for _ in range(2)]
    assert {n.status for n in failed} == {"failed"}

    sms_down.SMS_BACKEND = "file"
    assert run("retry") == "Retried 2 failed message(s): 2 sent now.\n"

    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    assert len(sms_files(sms_folder)) == 2
    for notification in failed:
        event = order_of(notification).events.get(kind=OrderEvent.Kind.NOTIFICATION_RESENT)
        assert event.actor_name == "Operator (manage.py notifications retry)"


@pytest.mark.django_db(transaction=True)
def test_retry_counts_messages_the_resend_already_delivered_after_commit(sms_down, sms_folder, actor):
    # Real commits: resending delivers each message from its after-commit hook, before
    # the command's own delivery call, which then finds nothing left to send.
    sms_down.NOTIFICATION_MAX_ATTEMPTS = 1
    for _ in range(2):
        actions.verify_payment(awaiting_order(actor).pk, by=actor)
    assert set(Notification.objects.values_list("status", flat=True)) == {"failed"}

    sms_down.SMS_BACKEND = "file"
    assert run("retry") == "Retried 2 failed message(s): 2 sent now.\n"

    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    assert len(sms_files(sms_folder)) == 2


def test_retry_by_id_sends_just_that_one(sms_down, sms_folder, actor, django_capture_on_commit_callbacks):
    sms_down.NOTIFICATION_MAX_ATTEMPTS = 1
    first, second = (merchant_sms(pay(actor, django_capture_on_commit_callbacks)) for _ in range(2))
    sms_down.SMS_BACKEND = "file"

    assert run("retry", "--id", str(second.pk)) == "Retried 1 failed message(s): 1 sent now.\n"
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("failed", "sent")


def test_retry_refuses_unknown_or_unfailed_ids_and_changes_nothing(
    sms_down, actor, django_capture_on_commit_callbacks
):
    waiting = merchant_sms(pay(actor, django_capture_on_commit_callbacks))
    before = (waiting.status, waiting.attempts, waiting.next_attempt_at)

    with pytest.raises(CommandError) as refusal:
        run("retry", "--id", str(waiting.pk), "--id", "999999")

    assert str(refusal.value) == (
        f"Nothing retried: no message with id 999999; only failed messages are retried, not {waiting.pk} (pending)."
    )
    waiting.refresh_from_db()
    assert (waiting.status, waiting.attempts, waiting.next_attempt_at) == before
    assert not order_of(waiting).events.filter(kind=OrderEvent.Kind.NOTIFICATION_RESENT).exists()
