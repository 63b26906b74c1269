"""A merchant resends a failed message: the domain function, the page partial and its URL."""

import re

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape

from orderdesk.accounts.tests.factories import MerchantFactory, owner_actor
from orderdesk.notifications.actions import resend_notification
from orderdesk.notifications.errors import NotificationNotFound, ResendRefused
from orderdesk.notifications.models import Notification
from orderdesk.notifications.tests.fixtures import sms_files, use_smtp
from orderdesk.notifications.tests.peers import free_port
from orderdesk.orders import actions
from orderdesk.orders.models import OrderEvent
from orderdesk.orders.tests.factories import awaiting_order
from orderdesk.orders.tests.messages import messages_of, order_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("notification_settings")]


def snapshot(notification):
    notification.refresh_from_db()
    return (notification.status, notification.attempts, notification.last_error, notification.next_attempt_at)


@pytest.fixture
def failed(settings, sms_folder, actor, django_capture_on_commit_callbacks):
    """A payment SMS that failed for good: the gateway could not be reached, with one attempt allowed."""
    settings.SMS_BACKEND = "semaphore"
    settings.SEMAPHORE_API_KEY = "key"
    settings.SEMAPHORE_API_BASE = "http://127.0.0.1:9"  # nothing listens on the discard port
    settings.NOTIFICATION_MAX_ATTEMPTS = 1
    order = awaiting_order(actor)
    with django_capture_on_commit_callbacks(execute=True):
        actions.verify_payment(order.pk, by=actor)
    notification = messages_of(order).get()
    assert notification.status == Notification.Status.FAILED
    settings.SMS_BACKEND = "file"
    return notification


def test_resending_a_failed_message_gives_it_another_round_sends_it_and_notes_it_on_the_timeline(
    failed, actor, sms_folder, django_capture_on_commit_callbacks
):
    error = failed.last_error
    with django_capture_on_commit_callbacks(execute=True):
        resend_notification(failed.pk, by=actor)

    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == ("sent", 1, "")
    assert len(sms_files(sms_folder)) == 1
    event = order_of(failed).events.get(kind=OrderEvent.Kind.NOTIFICATION_RESENT)
    assert event.actor == actor.user
    assert event.data == {
        "notification": {
            "id": failed.pk,
            "channel": "sms",
            "recipient": failed.recipient,
            "trigger": "payment_verified",
        },
        "last_error": error,
    }


def test_resending_a_message_that_was_sent_is_refused_and_changes_nothing(
    sms_folder, actor, django_capture_on_commit_callbacks
):
    order = awaiting_order(actor)
    with django_capture_on_commit_callbacks(execute=True):
        actions.verify_payment(order.pk, by=actor)
    sent = messages_of(order).get()
    before = snapshot(sent)
    events_before = order.events.count()

    with pytest.raises(ResendRefused) as refusal:
        resend_notification(sent.pk, by=actor)

    assert refusal.value.message == f"The SMS to {sent.recipient} was already sent; it is not sent twice."
    assert snapshot(sent) == before
    assert order.events.count() == events_before
    assert len(sms_files(sms_folder)) == 1


def test_resending_a_message_still_waiting_is_refused_and_changes_nothing(actor):
    order = actions.verify_payment(awaiting_order(actor).pk, by=actor)  # delivery waits for commit
    waiting = messages_of(order).get()
    before = snapshot(waiting)

    with pytest.raises(ResendRefused) as refusal:
        resend_notification(waiting.pk, by=actor)

    assert refusal.value.message == f"The SMS to {waiting.recipient} is still waiting to be sent."
    assert snapshot(waiting) == before


def test_another_merchants_message_cannot_be_resent_and_looks_absent(failed):
    stranger = owner_actor()
    before = snapshot(failed)

    with pytest.raises(NotificationNotFound) as refusal:
        resend_notification(failed.pk, by=stranger)

    assert refusal.value.message == "That notification does not exist."
    assert snapshot(failed) == before
    assert not order_of(failed).events.filter(kind=OrderEvent.Kind.NOTIFICATION_RESENT).exists()


def test_the_order_lists_only_its_own_messages_oldest_first(actor):
    first = actions.verify_payment(awaiting_order(actor).pk, by=actor)
    actions.verify_payment(awaiting_order(actor).pk, by=actor)
    mine = list(messages_of(first))
    assert [n.about_id for n in mine] == [str(first.pk)]
    assert Notification.objects.count() == 2


def test_the_partial_shows_each_message_with_its_state_and_a_resend_button_only_when_failed(failed, actor):
    other = actions.verify_payment(awaiting_order(actor).pk, by=actor)
    rows = list(messages_of(order_of(failed))) + list(messages_of(other))

    html = render_to_string("notifications/_messages.html", {"about_type": "order", "messages_about": rows})

    assert html.count("<form") == 1
    assert f'action="/notifications/{failed.pk}/resend/"' in html
    assert "Failed" in html and "Pending" in html
    assert "Payment verified" in html
    assert escape(failed.last_error) in html


# --- the URL ------------------------------------------------------------------------------


def test_resend_needs_a_signed_in_user(client, failed):
    before = snapshot(failed)
    response = client.post(f"/notifications/{failed.pk}/resend/")
    assert response.status_code == 302 and response["Location"].startswith(resolve_url(settings.LOGIN_URL))
    assert snapshot(failed) == before


def test_resend_from_the_order_page_sends_again_and_returns_to_it(
    client, failed, actor, sms_folder, django_capture_on_commit_callbacks
):
    client.force_login(actor.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/notifications/{failed.pk}/resend/", {"next": f"/orders/{failed.about_id}/"})
    assert response.status_code == 302 and response["Location"] == f"/orders/{failed.about_id}/"
    failed.refresh_from_db()
    assert failed.status == "sent"


def test_resend_does_not_redirect_off_site(client, failed, actor):
    client.force_login(actor.user)
    response = client.post(f"/notifications/{failed.pk}/resend/", {"next": "https://evil.example/"})
    assert response["Location"] == f"/orders/{failed.about_id}/"


def test_resend_by_htmx_answers_the_refreshed_list(client, failed, actor):
    client.force_login(actor.user)
    response = client.post(f"/notifications/{failed.pk}/resend/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="order-notifications"' in html
    assert f"Sending the SMS to {failed.recipient} again." in html
    assert "<form" not in html  # pending now: nothing to resend


def test_after_an_htmx_resend_the_other_resend_buttons_still_return_to_the_order_page(
    client, settings, sms_folder, django_capture_on_commit_callbacks
):
    actor = owner_actor(MerchantFactory(notification_email="orders@casalinen.example"))
    settings.SMS_BACKEND = "semaphore"
    settings.SEMAPHORE_API_KEY = "key"
    settings.SEMAPHORE_API_BASE = "http://127.0.0.1:9"
    use_smtp(settings, free_port())  # nothing listens there either
    settings.NOTIFICATION_MAX_ATTEMPTS = 1
    order = awaiting_order(actor)
    with django_capture_on_commit_callbacks(execute=True):
        actions.verify_payment(order.pk, by=actor)
    sms, email = (messages_of(order).get(channel=c) for c in ("sms", "email"))
    assert (sms.status, email.status) == ("failed", "failed")
    client.force_login(actor.user)

    partial = client.post(f"/notifications/{sms.pk}/resend/", headers={"HX-Request": "true"})

    html = partial.content.decode()
    assert f'action="/notifications/{email.pk}/resend/"' in html
    [back] = re.findall(r'name="next" value="([^"]*)"', html)
    order_page = reverse("orders:detail", args=[order.pk])
    assert back == order_page
    # Without htmx (it failed to load, say), the button posts the form and lands on the order.
    response = client.post(f"/notifications/{email.pk}/resend/", {"next": back})
    assert response.status_code == 302 and response["Location"] == order_page
    assert client.get(response["Location"]).status_code == 200


def test_a_refused_resend_shows_why_and_changes_nothing(
    client, sms_folder, actor, django_capture_on_commit_callbacks
):
    order = awaiting_order(actor)
    with django_capture_on_commit_callbacks(execute=True):
        actions.verify_payment(order.pk, by=actor)
    sent = messages_of(order).get()
    before = snapshot(sent)
    client.force_login(actor.user)

    response = client.post(f"/notifications/{sent.pk}/resend/", headers={"HX-Request": "true"})

    assert "was already sent; it is not sent twice." in response.content.decode()
    assert snapshot(sent) == before


def test_another_merchants_message_is_a_404_at_the_url(client, failed):
    stranger = owner_actor()
    before = snapshot(failed)
    client.force_login(stranger.user)
    assert client.post(f"/notifications/{failed.pk}/resend/").status_code == 404
    assert snapshot(failed) == before


def test_resend_only_answers_post(client, failed, actor):
    client.force_login(actor.user)
    assert client.get(f"/notifications/{failed.pk}/resend/").status_code == 405


def test_the_order_page_shows_a_failed_message_with_its_error_and_a_resend_button(client, failed, actor):
    client.force_login(actor.user)
    page = client.get(reverse("orders:detail", args=[failed.about_id])).content.decode()

    assert f"SMS to merchant {failed.recipient}" in page
    assert "Stopped after 1 attempt" in page
    assert escape(failed.last_error) in page
    assert f'action="{reverse("notifications:resend", args=[failed.pk])}"' in page


def test_the_order_timeline_says_which_message_was_resent_and_why_it_had_failed(
    client, failed, actor, django_capture_on_commit_callbacks
):
    error = failed.last_error
    with django_capture_on_commit_callbacks(execute=True):
        resend_notification(failed.pk, by=actor)
    client.force_login(actor.user)

    page = client.get(reverse("orders:detail", args=[failed.about_id])).content.decode()

    assert "Notification resent" in page
    assert escape(f"SMS to {failed.recipient} (was: {error})") in page
