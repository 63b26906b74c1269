import re

import pytest
from django.core import mail
from django.urls import reverse

from orderdesk.accounts.models import User
from orderdesk.accounts.tests.factories import MembershipFactory, owner_actor
from orderdesk.orders.tests.factories import pending_order

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
FACEBOOK_APP = {
    "facebook": {"METHOD": "oauth2", "APPS": [{"client_id": "1234", "secret": "s3cret", "key": ""}]}
}


def test_the_sign_in_page_asks_for_email_and_password_without_a_facebook_button_when_no_app_is_set(client):
    page = client.get(reverse("account_login")).content.decode()

    assert 'name="login"' in page and 'type="email"' in page
    assert 'name="password"' in page
    assert "Continue with Facebook" not in page


def test_the_facebook_button_appears_when_the_facebook_app_is_configured(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = FACEBOOK_APP

    page = client.get(reverse("account_login")).content.decode()

    assert "Continue with Facebook" in page
    assert 'action="/accounts/facebook/login/' in page


def test_a_link_to_an_order_leads_through_sign_in_and_lands_on_that_order(client):
    actor = owner_actor()
    order = pending_order(actor)
    order_path = reverse("orders:detail", args=[order.pk])
    assert order_path == f"/orders/{order.pk}/"

    to_sign_in = client.get(order_path)
    assert to_sign_in.status_code == 302
    sign_in_url = to_sign_in.url
    assert sign_in_url.startswith(reverse("account_login"))

    signed_in = client.post(
        sign_in_url, {"login": actor.user.email, "password": PASSWORD, "next": order_path}
    )
    assert signed_in.status_code == 302
    assert signed_in.url == order_path
    assert order.reference in client.get(order_path).content.decode()


def test_a_wrong_password_is_refused_with_a_clear_message(client):
    user = MembershipFactory().user

    response = client.post(reverse("account_login"), {"login": user.email, "password": "wrong"})

    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_too_many_failed_sign_ins_are_slowed_down_even_when_the_password_is_then_right(client):
    user = MembershipFactory().user
    for _ in range(5):
        client.post(reverse("account_login"), {"login": user.email, "password": "wrong"})

    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})

    assert "Too many failed login attempts. Try again later." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_signing_out_ends_the_session(client):
    user = MembershipFactory().user
    client.force_login(user)

    response = client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("orders:tracking")).status_code == 302


def test_a_forgotten_password_is_reset_through_a_link_sent_by_email(
    client, django_capture_on_commit_callbacks
):
    user = MembershipFactory().user

    # The email goes through the outbox, which sends it once the request's work is committed.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body).group(1)

    form_page = client.get(link, follow=True)
    form_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
    done = client.post(form_url, {"password1": "a new long passphrase", "password2": "a new long passphrase"})

    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a new long passphrase")


def test_nobody_can_sign_up_without_an_invitation_while_sign_up_is_closed(client, settings):
    settings.SIGNUP_OPEN = False

    response = client.post(
        reverse("account_signup"), {"email": "stranger@example.com", "password1": "a long passphrase here"}
    )

    assert "Orderdesk is by invitation" in response.content.decode()
    assert not User.objects.filter(email="stranger@example.com").exists()
