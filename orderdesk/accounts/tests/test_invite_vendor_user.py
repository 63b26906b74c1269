"""The owner invites a vendor's people: they join as vendor users of that vendor and land in the portal."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from orderdesk.accounts.models import Membership, User
from orderdesk.accounts.tests.factories import MembershipFactory
from orderdesk.vendors.tests.factories import VendorFactory

pytestmark = pytest.mark.django_db


def invite(client, email, capture, vendor=""):
    with capture(execute=True):
        return client.post(reverse("accounts:invite"), {"email": email, "vendor": vendor})


def invitation_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/account/invitation/\S+/)", message.body).group(1)


def test_the_owner_invites_a_vendors_person_who_joins_as_its_vendor_user_and_lands_on_their_shipments(
    owner_client, owner, django_capture_on_commit_callbacks
):
    vendor = VendorFactory(merchant=owner.merchant, name="Cebu Weavers")
    page = owner_client.get(reverse("accounts:account")).content.decode()
    assert f'<option value="{vendor.pk}">A person of Cebu Weavers (vendor)</option>' in page

    response = invite(
        owner_client, "agent@cebu.example", django_capture_on_commit_callbacks, vendor=vendor.pk
    )

    assert response.status_code == 302
    invited = User.objects.get(email="agent@cebu.example")
    assert [(m.merchant, m.role, m.vendor) for m in invited.memberships.all()] == [
        (owner.merchant, Membership.Role.VENDOR_USER, vendor)
    ]
    [message] = mail.outbox
    assert "for Cebu Weavers" in message.body and "vendor portal" in message.body
    assert "Vendor user of Cebu Weavers" in owner_client.get(reverse("accounts:account")).content.decode()

    agent = Client()
    joined = agent.post(
        invitation_path(message),
        {"new_password1": "a long vendor passphrase", "new_password2": "a long vendor passphrase"},
        follow=True,
    )

    assert joined.redirect_chain[-1][0].startswith(reverse("shipments:list"))
    page = joined.content.decode()
    assert "Your shipments" in page
    # Their own menu: their shipments and their after-sales cases; no Order Tracking, no Account.
    assert f'href="{reverse("aftersales:list")}"' in page
    assert agent.get(reverse("aftersales:list")).status_code == 200
    assert reverse("orders:tracking") not in page
    assert reverse("accounts:account") not in page
    assert agent.get(reverse("orders:tracking")).status_code == 403


@pytest.mark.parametrize(
    ("which", "refusal"),
    [
        ("another shop's", "That vendor does not exist."),
        ("inactive", "is not active; make it active before inviting its people."),
        ("not a number", "That vendor does not exist."),
    ],
)
def test_an_invitation_naming_a_vendor_not_of_this_shop_or_inactive_is_refused_and_nothing_changes(
    owner, which, refusal
):
    from orderdesk.accounts.actions import invite_staff_member
    from orderdesk.accounts.errors import InvalidAccountDetails

    vendor_id = {
        "another shop's": lambda: VendorFactory().pk,
        "inactive": lambda: VendorFactory(merchant=owner.merchant, is_active=False).pk,
        "not a number": lambda: "x",
    }[which]()
    memberships_before = Membership.objects.count()

    with pytest.raises(InvalidAccountDetails) as refused:
        invite_staff_member("agent@cebu.example", by=owner, vendor_id=vendor_id)

    assert refusal in refused.value.message and refused.value.field == "vendor"
    assert Membership.objects.count() == memberships_before
    assert not User.objects.filter(email="agent@cebu.example").exists()


def test_a_source_agent_works_for_vendors_of_two_shops_and_chooses_under_acting_for(
    owner_client, owner, django_capture_on_commit_callbacks
):
    elsewhere = MembershipFactory(role=Membership.Role.VENDOR_USER)
    agent = elsewhere.user
    vendor = VendorFactory(merchant=owner.merchant, name="Cebu Weavers")

    invite(owner_client, agent.email, django_capture_on_commit_callbacks, vendor=vendor.pk)

    assert {(m.merchant_id, m.vendor_id) for m in agent.memberships.all()} == {
        (elsewhere.merchant_id, elsewhere.vendor_id),
        (owner.merchant.pk, vendor.pk),
    }
    theirs = Client()
    theirs.force_login(agent)
    menu = theirs.get(reverse("shipments:list")).content.decode()
    assert f"{owner.merchant.name} · Cebu Weavers" in menu
    assert f"{elsewhere.merchant.name} · {elsewhere.vendor.name}" in menu


def test_a_pending_staff_invitation_becomes_a_vendor_invitation_when_sent_again_for_a_vendor(
    owner_client, owner, django_capture_on_commit_callbacks
):
    vendor = VendorFactory(merchant=owner.merchant)
    invite(owner_client, "agent@cebu.example", django_capture_on_commit_callbacks)
    invite(owner_client, "agent@cebu.example", django_capture_on_commit_callbacks, vendor=vendor.pk)

    membership = Membership.objects.get(user__email="agent@cebu.example")
    assert (membership.role, membership.vendor) == (Membership.Role.VENDOR_USER, vendor)
    assert len(mail.outbox) == 2
