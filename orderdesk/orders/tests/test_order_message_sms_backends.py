"""Each SMS backend against a provider double on loopback that checks requests as the provider does."""

import datetime
import hashlib
import hmac
import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from orderdesk.notifications.delivery import deliver_due_notifications
from orderdesk.notifications.sms import get_sms_backend
from orderdesk.notifications.tests.fixtures import sms_files
from orderdesk.notifications.tests.peers import UnansweredPort, free_port

from .messages import later, merchant_sms, pay

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("notification_settings")]


# --- Twilio ----------------------------------------------------------------------------


def test_twilio_gets_a_form_post_with_basic_auth_and_the_sid_is_kept(
    twilio, actor, django_capture_on_commit_callbacks
):
    order = pay(actor, django_capture_on_commit_callbacks)

    [request] = twilio.requests
    assert request.form == {"To": "+639171234567", "From": "CasaLinen", "Body": merchant_sms(order).body}
    [delivered] = twilio.delivered
    row = merchant_sms(order)
    assert (row.status, row.provider_message_id) == ("sent", delivered["sid"])


def test_sms_sender_name_setting_wins_over_the_merchants_short_name(
    settings, twilio, actor, django_capture_on_commit_callbacks
):
    settings.SMS_SENDER_NAME = "Orderdesk"
    pay(actor, django_capture_on_commit_callbacks)
    assert twilio.delivered[0]["from"] == "Orderdesk"


def test_a_twilio_refusal_with_an_error_code_fails_the_message_for_good(
    twilio, actor, django_capture_on_commit_callbacks
):
    twilio.fail_next(
        400,
        {
            "code": 21211,
            "message": "The 'To' number +639171234567 is not a valid phone number.",
            "status": 400,
        },
    )
    order = pay(actor, django_capture_on_commit_callbacks)

    row = merchant_sms(order)
    assert row.status == "failed" and row.attempts == 1
    assert row.last_error == (
        "Twilio answered 400: error 21211: The 'To' number +639171234567 is not a valid phone number."
    )
    assert deliver_due_notifications(now=later(minutes=600)) == {}
    assert len(twilio.requests) == 1


def test_wrong_twilio_credentials_are_refused_by_twilio_and_reported(
    settings, twilio, actor, django_capture_on_commit_callbacks
):
    settings.TWILIO_AUTH_TOKEN = "wrong"
    order = pay(actor, django_capture_on_commit_callbacks)
    row = merchant_sms(order)
    assert row.status == "failed"
    assert "401" in row.last_error and "20003" in row.last_error
    assert twilio.delivered == []


def test_twilio_rate_limiting_waits_at_least_as_long_as_retry_after_then_sends_once(
    twilio, actor, django_capture_on_commit_callbacks
):
    twilio.fail_next(
        429, {"code": 20429, "message": "Too Many Requests", "status": 429}, headers={"Retry-After": "120"}
    )
    before = timezone.now()
    order = pay(actor, django_capture_on_commit_callbacks)

    row = merchant_sms(order)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "429" in row.last_error
    assert row.next_attempt_at >= before + datetime.timedelta(seconds=120)
    assert deliver_due_notifications(now=later(minutes=1)) == {}
    assert deliver_due_notifications(now=later(minutes=3)) == {"sent": 1}
    assert len(twilio.delivered) == 1


def test_a_twilio_server_error_is_retried_and_the_customer_gets_one_sms(
    twilio, actor, django_capture_on_commit_callbacks
):
    twilio.fail_next(500, {"code": 20500, "message": "Internal Server Error", "status": 500})
    order = pay(actor, django_capture_on_commit_callbacks)
    assert merchant_sms(order).status == "pending"

    assert deliver_due_notifications(now=later(minutes=5)) == {"sent": 1}
    assert deliver_due_notifications(now=later(minutes=60)) == {}

    assert len(twilio.requests) == 2
    assert len(twilio.delivered) == 1


def test_a_twilio_answer_that_comes_too_late_fails_the_message_without_sending_it_twice(
    settings, twilio, actor, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_SEND_TIMEOUT_SECONDS = 1
    twilio.stall_next(2.5)  # takes the message, answers after we gave up
    order = pay(actor, django_capture_on_commit_callbacks)

    row = merchant_sms(order)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error == (
        "Twilio did not answer in time (ReadTimeout), so the SMS may have been sent. "
        "Not tried again: check with Twilio or the recipient before using Resend."
    )
    assert deliver_due_notifications(now=later(minutes=600)) == {}
    assert len(twilio.requests) == 1
    assert len(twilio.delivered) == 1


def test_twilio_unreachable_before_the_connection_is_made_is_retried_and_sends_once(
    settings, twilio, actor, django_capture_on_commit_callbacks
):
    unanswered = UnansweredPort().start()
    settings.TWILIO_API_BASE = unanswered.base_url
    try:
        order = pay(actor, django_capture_on_commit_callbacks)
    finally:
        unanswered.stop()

    row = merchant_sms(order)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error == "Twilio could not be reached in time (ConnectTimeout)."

    settings.TWILIO_API_BASE = twilio.base_url
    assert deliver_due_notifications(now=later(minutes=5)) == {"sent": 1}
    assert len(twilio.delivered) == 1


@pytest.mark.parametrize("provider", ["twilio", "semaphore"])
def test_a_refused_connection_is_retried_and_the_customer_gets_one_sms(
    provider, request, settings, actor, django_capture_on_commit_callbacks
):
    double = request.getfixturevalue(provider)
    base_setting = f"{provider.upper()}_API_BASE"
    setattr(settings, base_setting, f"http://127.0.0.1:{free_port()}")  # nothing listens there
    order = pay(actor, django_capture_on_commit_callbacks)

    row = merchant_sms(order)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "could not be reached" in row.last_error

    setattr(settings, base_setting, double.base_url)
    assert deliver_due_notifications(now=later(minutes=5)) == {"sent": 1}
    assert deliver_due_notifications(now=later(minutes=60)) == {}
    assert len(double.delivered) == 1


def test_the_twilio_backend_refuses_to_start_without_credentials(settings):
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = ""
    with pytest.raises(ImproperlyConfigured, match="TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"):
        get_sms_backend()


# --- Semaphore -----------------------------------------------------------------------


def test_semaphore_gets_its_form_fields_without_the_plus_and_the_message_id_is_kept(
    semaphore, actor, django_capture_on_commit_callbacks
):
    order = pay(actor, django_capture_on_commit_callbacks)

    [request] = semaphore.requests
    assert request.path == "/api/v4/messages"
    assert request.form == {
        "apikey": "semaphore-key",
        "number": "639171234567",
        "message": merchant_sms(order).body,
        "sendername": "CasaLinen",
    }
    assert merchant_sms(order).provider_message_id == str(semaphore.delivered[0]["message_id"])


def test_a_semaphore_validation_error_fails_the_message_with_semaphores_words(
    settings, semaphore, actor, django_capture_on_commit_callbacks
):
    settings.SMS_SENDER_NAME = "OrderdeskPhilippines"  # longer than Semaphore allows
    order = pay(actor, django_capture_on_commit_callbacks)
    row = merchant_sms(order)
    assert row.status == "failed"
    assert row.last_error == (
        "Semaphore refused the message: sendername: The sendername may not be greater than 11 characters."
    )


def test_a_wrong_semaphore_key_is_reported(settings, semaphore, actor, django_capture_on_commit_callbacks):
    settings.SEMAPHORE_API_KEY = "nope"
    order = pay(actor, django_capture_on_commit_callbacks)
    row = merchant_sms(order)
    assert row.status == "failed"
    assert row.last_error == "Semaphore answered 401: apikey: The selected apikey is invalid."


@pytest.mark.parametrize("status", [429, 500, 503])
def test_semaphore_rate_limits_and_outages_are_retried(
    status, semaphore, actor, django_capture_on_commit_callbacks
):
    semaphore.fail_next(status, {"message": "Try again later"})
    order = pay(actor, django_capture_on_commit_callbacks)
    assert merchant_sms(order).status == "pending"
    assert deliver_due_notifications(now=later(minutes=5)) == {"sent": 1}
    assert len(semaphore.delivered) == 1


def test_a_semaphore_answer_that_comes_too_late_fails_the_message_without_sending_it_twice(
    settings, semaphore, actor, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_SEND_TIMEOUT_SECONDS = 1
    semaphore.stall_next(2.5)
    order = pay(actor, django_capture_on_commit_callbacks)

    row = merchant_sms(order)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error == (
        "Semaphore did not answer in time (ReadTimeout), so the SMS may have been sent. "
        "Not tried again: check with Semaphore or the recipient before using Resend."
    )
    assert deliver_due_notifications(now=later(minutes=600)) == {}
    assert len(semaphore.requests) == 1
    assert len(semaphore.delivered) == 1


# --- the generic HTTP gateway --------------------------------------------------------


def test_the_http_gateway_gets_signed_json_with_an_idempotency_key(
    webhook, actor, django_capture_on_commit_callbacks
):
    order = pay(actor, django_capture_on_commit_callbacks)

    [request] = webhook.requests
    row = merchant_sms(order)
    assert json.loads(request.body) == {
        "to": "+639171234567",
        "from": "CasaLinen",
        "body": row.body,
        "idempotency_key": row.idempotency_key,
    }
    expected = hmac.new(b"webhook-secret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-orderdesk-signature"] == f"sha256={expected}"
    assert request.headers["idempotency-key"] == row.idempotency_key
    assert (row.status, row.provider_message_id) == ("sent", "gw-1")


def test_a_gateway_that_answers_too_late_is_asked_again_with_the_same_key_and_sends_once(
    settings, webhook, actor, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_SEND_TIMEOUT_SECONDS = 1
    webhook.stall_next(2.5)  # takes the message, answers after we gave up
    order = pay(actor, django_capture_on_commit_callbacks)

    row = merchant_sms(order)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "did not answer in time" in row.last_error

    assert deliver_due_notifications(now=later(minutes=5)) == {"sent": 1}
    keys = [r.headers["idempotency-key"] for r in webhook.requests]
    assert keys == [row.idempotency_key, row.idempotency_key]
    assert len(webhook.delivered) == 1
    assert merchant_sms(order).provider_message_id == "gw-1"


def test_a_gateway_with_another_secret_refuses_the_signature(
    settings, webhook, actor, django_capture_on_commit_callbacks
):
    settings.SMS_WEBHOOK_SECRET = "not-the-gateways"
    order = pay(actor, django_capture_on_commit_callbacks)
    row = merchant_sms(order)
    assert row.status == "failed"
    assert row.last_error == 'The SMS gateway answered 401: {"error": "bad signature"}'
    assert webhook.delivered == []


# --- file and console --------------------------------------------------------------------


def test_the_file_backend_writes_each_message_once_even_when_asked_twice(sms_folder, actor):
    from orderdesk.notifications.sms import OutgoingSms

    backend = get_sms_backend()
    sms = OutgoingSms(to="+639171234567", sender="CasaLinen", body="Hello", idempotency_key="order:1:x")
    first, second = backend.send(sms), backend.send(sms)

    assert first == second
    [written] = sms_files(sms_folder)
    assert written.read_text() == "To: +639171234567\nFrom: CasaLinen\nIdempotency-Key: order:1:x\n\nHello\n"


def test_the_console_backend_prints_the_message(settings, capsys, actor, django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = "console"
    order = pay(actor, django_capture_on_commit_callbacks)
    printed = capsys.readouterr().out
    assert "SMS from CasaLinen to +639171234567" in printed
    assert merchant_sms(order).body in printed
    assert merchant_sms(order).status == "sent"


def test_an_unknown_sms_backend_name_is_a_configuration_error_the_system_check_reports(settings):
    from orderdesk.notifications.checks import sms_backend_is_usable

    settings.SMS_BACKEND = "carrier-pigeon"
    [error] = sms_backend_is_usable(None)
    assert error.id == "notifications.E001"
    assert "console, file, twilio, semaphore, http" in error.msg
