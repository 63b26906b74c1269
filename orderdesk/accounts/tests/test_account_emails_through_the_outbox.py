"""Invitations and password resets go through the outbox: with the mail server down the
request still succeeds, and the email is retried and delivered once the server is back."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from orderdesk.accounts.models import User
from orderdesk.accounts.tests.factories import MembershipFactory
from orderdesk.notifications.delivery import deliver_due_notifications
from orderdesk.notifications.models import Notification
from orderdesk.notifications.tests.fixtures import use_smtp
from orderdesk.notifications.tests.peers import SmtpServer, free_port

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("notification_settings")]


def later(minutes):
    return timezone.now() + datetime.timedelta(minutes=minutes)


@pytest.fixture
def mail_server_down(settings):
    """SMTP on a port where nothing listens yet; `.start()` brings a real server up there."""
    port = free_port()
    use_smtp(settings, port)
    server = SmtpServer(port)
    yield server
    server.stop()


def test_an_invitation_made_while_the_mail_server_is_down_is_delivered_when_it_is_back(
    owner_client, owner, client, mail_server_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("accounts:invite"), {"email": "bea@shop.example"})

    assert response.status_code == 302
    invited = User.objects.get(email="bea@shop.example")
    assert [m.merchant for m in invited.memberships.all()] == [owner.merchant]
    row = Notification.objects.get(recipient="bea@shop.example")
    assert (row.topic, row.status, row.attempts) == ("accounts.invitation", "pending", 1)
    assert "could not be reached" in row.last_error

    mail_server_down.start()
    assert deliver_due_notifications(now=later(5)) == {"sent": 1}
    assert deliver_due_notifications(now=later(60)) == {}

    [arrived] = mail_server_down.messages
    assert arrived["To"] == "bea@shop.example"
    assert owner.merchant.name in arrived["Subject"]
    path = re.search(r"https?://[^/\s]+(/account/invitation/\S+/)", arrived.get_content()).group(1)
    owner_client.logout()
    assert f"Join {owner.merchant.name}" in client.get(path).content.decode()


def test_a_password_reset_asked_while_the_mail_server_is_down_is_delivered_when_it_is_back(
    client, mail_server_down, django_capture_on_commit_callbacks
):
    user = MembershipFactory().user

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": user.email})

    assert response.status_code == 302
    row = Notification.objects.get(recipient=user.email)
    assert (row.topic, row.status, row.attempts) == ("accounts.email", "pending", 1)
    assert row.merchant == user.memberships.get().merchant

    mail_server_down.start()
    assert deliver_due_notifications(now=later(5)) == {"sent": 1}

    [arrived] = mail_server_down.messages
    assert arrived["To"] == user.email
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", arrived.get_content()).group(1)
    form_page = client.get(link, follow=True)
    form_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
    done = client.post(form_url, {"password1": "a new long passphrase", "password2": "a new long passphrase"})
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a new long passphrase")


def test_the_invitation_text_is_written_when_it_is_sent_not_in_the_request(
    owner_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        owner_client.post(reverse("accounts:invite"), {"email": "bea@shop.example"})

    row = Notification.objects.get(recipient="bea@shop.example")
    assert (row.status, row.body, row.composed_at) == ("pending", "", None)
    assert row.payload["user_id"] == User.objects.get(email="bea@shop.example").pk
