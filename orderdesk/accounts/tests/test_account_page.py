import pytest
from django.urls import reverse

from orderdesk.accounts.models import Membership, Merchant
from orderdesk.accounts.tests.factories import MembershipFactory, UserFactory
from orderdesk.stores.models import Store

pytestmark = pytest.mark.django_db


def test_the_account_page_shows_the_shop_the_signed_in_person_the_stores_and_the_notification_contacts(
    owner_client, owner
):
    Store.objects.create(merchant=owner.merchant, name="Shopify PH", channel=Store.Channel.SHOPIFY)

    page = owner_client.get(reverse("accounts:account")).content.decode()

    assert owner.merchant.name in page
    assert owner.user.email in page
    assert "Shopify PH" in page
    assert f'value="{owner.merchant.notification_phone}"' in page
    assert f'value="{owner.merchant.notification_email}"' in page
    assert 'href="/orders/"' in page


def test_the_owner_changes_the_notification_phone_and_it_is_kept_in_e164(owner_client, owner):
    response = owner_client.post(
        reverse("accounts:update_notifications"),
        {"notification_phone": "0917 555 0199", "notification_email": "Alerts@Shop.example"},
    )

    assert response.status_code == 302 and response.url == reverse("accounts:account")
    owner.merchant.refresh_from_db()
    assert owner.merchant.notification_phone == "+639175550199"
    assert owner.merchant.notification_email == "alerts@shop.example"
    assert "Notification contacts saved." in owner_client.get(response.url).content.decode()


def test_a_phone_that_is_not_a_number_is_refused_beside_its_field_and_nothing_is_saved(owner_client, owner):
    before = Merchant.objects.get(pk=owner.merchant.pk)

    response = owner_client.post(
        reverse("accounts:update_notifications"),
        {"notification_phone": "12ab", "notification_email": "new@shop.example"},
    )

    page = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_notification_phone_error"' in page
    assert "“12ab” is not a phone number." in page
    assert 'value="12ab"' in page and 'value="new@shop.example"' in page
    after = Merchant.objects.get(pk=owner.merchant.pk)
    assert (after.notification_phone, after.notification_email) == (
        before.notification_phone,
        before.notification_email,
    )


def test_an_email_that_is_not_an_address_is_refused_beside_its_field(owner_client, owner):
    response = owner_client.post(
        reverse("accounts:update_notifications"),
        {"notification_phone": "", "notification_email": "not-an-email"},
        headers={"HX-Request": "true"},
    )

    page = response.content.decode()
    assert response.status_code == 422
    assert "<html" not in page  # htmx gets the form alone
    assert "“not-an-email” is not an email address." in page
    owner.merchant.refresh_from_db()
    assert owner.merchant.notification_email.endswith("@shop.example")


def test_staff_see_the_notification_contacts_but_cannot_change_them(client):
    staff = MembershipFactory(role=Membership.Role.STAFF)
    client.force_login(staff.user)

    page = client.get(reverse("accounts:account")).content.decode()
    assert "Only the owner can change these." in page
    assert 'name="notification_phone"' not in page

    response = client.post(reverse("accounts:update_notifications"), {"notification_phone": "+639175550199"})
    assert response.status_code == 422
    assert "Only the shop&#x27;s owner can change where notifications go." in response.content.decode()
    staff.merchant.refresh_from_db()
    assert staff.merchant.notification_phone == "+639171234567"


def test_the_account_page_needs_sign_in(client):
    response = client.get(reverse("accounts:account"))

    assert response.status_code == 302
    assert response.url == f"{reverse('account_login')}?next=/account/"


def test_a_person_with_no_shop_is_told_how_to_join_one(client):
    client.force_login(UserFactory())

    response = client.get(reverse("accounts:account"))

    assert response.status_code == 403
    assert "Your account is not part of a shop yet" in response.content.decode()
