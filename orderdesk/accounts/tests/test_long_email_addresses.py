"""An address that grows past 254 characters when lower-cased is refused beside its field.

"İ" lower-cases to two characters ("i" and a combining dot), so a 253-character address
passed the form's length check and then failed in the database (PostgreSQL: a 500).
"""

import pytest
from django.core.validators import validate_email
from django.urls import reverse

from orderdesk.accounts.models import Merchant, User

pytestmark = pytest.mark.django_db

TOO_LONG = "is too long: an email address has at most 254 characters."


def address_that_grows_when_lower_cased() -> str:
    labels = ["İİstanbul" + "a" * 50, "b" * 60, "c" * 60, "d" * 50]
    email = "maria.santos@" + ".".join(labels) + ".com"
    labels[3] += "d" * (253 - len(email))
    email = "maria.santos@" + ".".join(labels) + ".com"
    assert len(email) == 253 and len(email.lower()) == 255
    validate_email(email.lower())  # otherwise a valid address: only its length is at fault
    return email


@pytest.fixture(
    params=[pytest.param("any", id="any-database"), pytest.param("pg", id="pg", marks=pytest.mark.postgres)]
)
def on_each_database(request):
    """Runs in the normal pass and again in the PostgreSQL-only pass, where the 500 was."""


def test_the_notification_email_that_grows_past_254_characters_is_refused_and_nothing_changes(
    owner_client, owner, on_each_database
):
    email = address_that_grows_when_lower_cased()
    before = Merchant.objects.values("notification_phone", "notification_email").get(pk=owner.merchant.pk)

    response = owner_client.post(
        reverse("accounts:update_notifications"), {"notification_phone": "", "notification_email": email}
    )

    assert response.status_code == 422
    assert TOO_LONG in response.content.decode()
    after = Merchant.objects.values("notification_phone", "notification_email").get(pk=owner.merchant.pk)
    assert after == before


def test_an_invitation_to_an_address_that_grows_past_254_characters_is_refused_and_nobody_is_invited(
    owner_client, on_each_database
):
    email = address_that_grows_when_lower_cased()
    users_before = list(User.objects.values_list("email", flat=True))

    response = owner_client.post(reverse("accounts:invite"), {"email": email})

    assert response.status_code == 422
    assert TOO_LONG in response.content.decode()
    assert list(User.objects.values_list("email", flat=True)) == users_before


def test_an_address_of_254_characters_once_lower_cased_is_still_accepted(owner_client, owner):
    email = address_that_grows_when_lower_cased()[:-1]  # 252 characters, 254 lower-cased
    email = email[:-4] + ".com"

    response = owner_client.post(
        reverse("accounts:update_notifications"), {"notification_phone": "", "notification_email": email}
    )

    assert response.status_code == 302
    owner.merchant.refresh_from_db()
    assert owner.merchant.notification_email == email.lower()
