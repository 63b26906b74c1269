import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from orderdesk.accounts.models import Membership, User
from orderdesk.accounts.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def invite(client, email, capture):
    with capture(execute=True):
        return client.post(reverse("accounts:invite"), {"email": email})


def invitation_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/account/invitation/\S+/)", message.body).group(1)


def test_the_owner_invites_a_staff_member_who_sets_a_password_and_joins_the_shop(
    owner_client, owner, client, django_capture_on_commit_callbacks
):
    response = invite(owner_client, "Bea@Shop.example", django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["bea@shop.example"]
    assert owner.merchant.name in message.subject
    invited = User.objects.get(email="bea@shop.example")
    assert [(m.merchant, m.role) for m in invited.memberships.all()] == [
        (owner.merchant, Membership.Role.STAFF)
    ]
    assert not invited.has_usable_password()

    owner_client.logout()
    path = invitation_path(message)
    assert f"Join {owner.merchant.name}" in owner_client.get(path).content.decode()
    joined = owner_client.post(
        path, {"new_password1": "a long staff passphrase", "new_password2": "a long staff passphrase"}
    )

    assert joined.status_code == 302
    invited.refresh_from_db()
    assert invited.check_password("a long staff passphrase")
    assert owner_client.get(reverse("orders:tracking")).status_code == 200


def test_an_invitation_link_works_only_once(owner_client, client, django_capture_on_commit_callbacks):
    invite(owner_client, "bea@shop.example", django_capture_on_commit_callbacks)
    path = invitation_path(mail.outbox[0])
    client.post(
        path, {"new_password1": "a long staff passphrase", "new_password2": "a long staff passphrase"}
    )
    client.logout()

    again = client.post(
        path, {"new_password1": "another passphrase 9", "new_password2": "another passphrase 9"}
    )

    assert again.status_code == 404
    assert "This invitation link no longer works" in again.content.decode()
    assert User.objects.get(email="bea@shop.example").check_password("a long staff passphrase")


def test_the_email_leaves_only_after_the_invitation_is_committed(
    owner_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        owner_client.post(reverse("accounts:invite"), {"email": "bea@shop.example"})

    assert len(callbacks) == 1
    assert mail.outbox == []


def test_staff_cannot_invite_anyone(client, django_capture_on_commit_callbacks):
    staff = MembershipFactory(role=Membership.Role.STAFF)
    client.force_login(staff.user)

    response = invite(client, "friend@shop.example", django_capture_on_commit_callbacks)

    assert response.status_code == 422
    assert "Only the shop&#x27;s owner can invite people." in response.content.decode()
    assert not User.objects.filter(email="friend@shop.example").exists()
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("who", "refusal"),
    [
        ("teammate", "is already on your team."),
        ("not an email", "“not an email” is not an email address."),
        ("", "Enter the email address of the person to invite."),
    ],
)
def test_an_invitation_that_cannot_be_sent_is_refused_beside_the_email_field(
    owner_client, owner, who, refusal, django_capture_on_commit_callbacks
):
    emails = {
        "teammate": MembershipFactory(merchant=owner.merchant, role=Membership.Role.STAFF).user.email,
    }
    email = emails.get(who, who)
    memberships_before = Membership.objects.count()

    response = invite(owner_client, email, django_capture_on_commit_callbacks)

    page = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_email_error"' in page
    assert refusal in page
    assert Membership.objects.count() == memberships_before
    assert mail.outbox == []


def test_inviting_someone_who_works_for_another_shop_adds_this_shop_to_their_memberships(
    owner_client, owner, django_capture_on_commit_callbacks
):
    elsewhere = MembershipFactory(role=Membership.Role.OWNER)
    password_before = elsewhere.user.password

    response = invite(owner_client, elsewhere.user.email.upper(), django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert f"Invitation sent to {elsewhere.user.email}." in owner_client.get(response.url).content.decode()
    assert {(m.merchant, m.role) for m in elsewhere.user.memberships.all()} == {
        (elsewhere.merchant, Membership.Role.OWNER),
        (owner.merchant, Membership.Role.STAFF),
    }
    # They keep their password and sign in as before: no link to choose a new one.
    elsewhere.user.refresh_from_db()
    assert elsewhere.user.password == password_before
    [message] = mail.outbox
    assert message.to == [elsewhere.user.email]
    assert owner.merchant.name in message.subject
    assert "/accounts/login/" in message.body
    assert "/account/invitation/" not in message.body
    # Neither the page nor the email tells this shop where else they work.
    assert elsewhere.merchant.name not in message.body
    assert elsewhere.merchant.name not in owner_client.get(reverse("accounts:account")).content.decode()

    theirs = Client()
    theirs.force_login(elsewhere.user)
    menu = theirs.get(reverse("web:home")).content.decode()
    assert f"{owner.merchant.name} · Staff" in menu


def test_someone_invited_by_two_shops_joins_with_one_password_and_lands_on_the_last_that_invited(
    owner_client, owner, django_capture_on_commit_callbacks
):
    other_owner = Client()
    other_owner.force_login(MembershipFactory(role=Membership.Role.OWNER).user)
    invite(other_owner, "bea@shop.example", django_capture_on_commit_callbacks)
    invite(owner_client, "bea@shop.example", django_capture_on_commit_callbacks)
    owner_client.logout()
    bea = User.objects.get(email="bea@shop.example")
    assert bea.memberships.count() == 2

    path = invitation_path(mail.outbox[-1])
    joined = owner_client.post(
        path,
        {"new_password1": "a long staff passphrase", "new_password2": "a long staff passphrase"},
        follow=True,
    )

    page = joined.content.decode()
    assert f"Welcome to {owner.merchant.name}." in page
    assert f'<option value="{bea.memberships.get(merchant=owner.merchant).pk}" selected>' in page
