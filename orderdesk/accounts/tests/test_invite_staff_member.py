import re

import pytest
from django.core import mail
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
    assert invited.membership.merchant == owner.merchant
    assert invited.membership.role == Membership.Role.STAFF
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
        ("elsewhere", "already works with another shop on Orderdesk."),
        ("not an email", "“not an email” is not an email address."),
        ("", "Enter the email address of the person to invite."),
    ],
)
def test_an_invitation_that_cannot_be_sent_is_refused_beside_the_email_field(
    owner_client, owner, who, refusal, django_capture_on_commit_callbacks
):
    emails = {
        "teammate": MembershipFactory(merchant=owner.merchant, role=Membership.Role.STAFF).user.email,
        "elsewhere": MembershipFactory().user.email,
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
