"""Failed sign-ins lock an account from one client only: nobody elsewhere can lock a person out.

Five wrong passwords for one email from one address refuse that email from that address
for a while; the right password from another address still gets in; ten failures with
random emails from one address slow that address down but never lock out a person who
signs in there regularly. Behind a reverse proxy TRUSTED_PROXY_COUNT says how many
X-Forwarded-For entries, from the right, are the proxies' own.
"""

import pytest
from django.urls import reverse

from orderdesk.accounts.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
TOO_MANY = "Too many failed login attempts. Try again later."
ATTACKER = "203.0.113.66"
VICTIM = "198.51.100.7"
OFFICE = "192.0.2.10"
PROXY = "10.0.0.2"


def sign_in(client, email, password, *, address, forwarded_for=None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    client.cookies.clear()
    response = client.post(
        reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=address, headers=headers
    )
    signed_in = "_auth_user_id" in client.session
    client.logout()
    return response, signed_in


def test_five_wrong_passwords_from_elsewhere_do_not_lock_the_owner_out_of_their_own_client(client):
    user = MembershipFactory().user
    for _ in range(6):
        sign_in(client, user.email, "guess", address=ATTACKER)

    _, signed_in = sign_in(client, user.email, PASSWORD, address=VICTIM)

    assert signed_in


def test_the_attacker_is_locked_out_of_that_account_from_their_own_client_even_with_the_right_password(
    client,
):
    user = MembershipFactory().user
    for _ in range(5):
        sign_in(client, user.email, "guess", address=ATTACKER)

    response, signed_in = sign_in(client, user.email, PASSWORD, address=ATTACKER)

    assert TOO_MANY in response.content.decode()
    assert not signed_in


def test_refused_attempts_from_elsewhere_keep_nobody_else_locked(client):
    user = MembershipFactory().user
    for _ in range(20):
        sign_in(client, user.email, "guess", address=ATTACKER)
    for _ in range(4):
        sign_in(client, user.email, "a typo", address=VICTIM)

    _, signed_in = sign_in(client, user.email, PASSWORD, address=VICTIM)

    assert signed_in


def test_ten_failures_with_random_emails_from_one_address_do_not_lock_out_a_regular_user_there(client):
    colleague = MembershipFactory().user
    assert sign_in(client, colleague.email, PASSWORD, address=OFFICE)[1]  # signs in from the office every day
    for number in range(12):
        sign_in(client, f"random{number}@example.com", "guess", address=OFFICE)

    _, signed_in = sign_in(client, colleague.email, PASSWORD, address=OFFICE)

    assert signed_in


def test_ten_failures_with_random_emails_slow_that_address_down_for_accounts_new_to_it(client):
    stranger_account = MembershipFactory().user
    for number in range(10):
        sign_in(client, f"random{number}@example.com", "guess", address=ATTACKER)

    response, signed_in = sign_in(client, stranger_account.email, PASSWORD, address=ATTACKER)

    assert TOO_MANY in response.content.decode()
    assert not signed_in


def test_without_a_trusted_proxy_a_forged_forwarded_for_header_does_not_change_the_client(client):
    user = MembershipFactory().user
    for number in range(5):
        sign_in(client, user.email, "guess", address=ATTACKER, forwarded_for=f"198.51.100.{number}")

    response, signed_in = sign_in(client, user.email, PASSWORD, address=ATTACKER, forwarded_for=VICTIM)

    assert TOO_MANY in response.content.decode()
    assert not signed_in


def test_behind_a_trusted_proxy_each_client_is_told_apart_by_the_rightmost_forwarded_address(
    client, settings
):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    user = MembershipFactory().user
    for _ in range(6):
        # The attacker forges an entry of their own; the proxy appends the address it saw.
        sign_in(client, user.email, "guess", address=PROXY, forwarded_for=f"{VICTIM}, {ATTACKER}")

    _, victim_signed_in = sign_in(client, user.email, PASSWORD, address=PROXY, forwarded_for=VICTIM)
    response, attacker_signed_in = sign_in(
        client, user.email, PASSWORD, address=PROXY, forwarded_for=f"{VICTIM}, {ATTACKER}"
    )

    assert victim_signed_in
    assert TOO_MANY in response.content.decode()
    assert not attacker_signed_in


def test_a_request_without_the_expected_forwarded_for_header_falls_back_to_the_peer_address(client, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 2
    user = MembershipFactory().user

    response, signed_in = sign_in(client, user.email, PASSWORD, address=PROXY, forwarded_for=VICTIM)

    assert response.status_code == 302
    assert signed_in


def test_trusted_proxy_count_comes_from_the_environment():
    from orderdesk import settings as orderdesk_settings

    assert orderdesk_settings.ALLAUTH_TRUSTED_PROXY_COUNT == 0
