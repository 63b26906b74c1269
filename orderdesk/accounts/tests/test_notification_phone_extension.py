import pytest
from django.urls import reverse

from orderdesk.accounts.models import Merchant

pytestmark = pytest.mark.django_db


def test_a_notification_phone_with_an_extension_is_refused_beside_the_field_and_nothing_changes(
    owner_client, owner
):
    before = Merchant.objects.values("notification_phone", "notification_email").get(pk=owner.merchant.pk)

    response = owner_client.post(
        reverse("accounts:update_notifications"),
        {"notification_phone": "+63 2 8123 4567 ext. 12", "notification_email": "shop@example.com"},
    )

    assert response.status_code == 422
    assert "SMS cannot reach an extension. Enter the number without it." in response.content.decode()
    after = Merchant.objects.values("notification_phone", "notification_email").get(pk=owner.merchant.pk)
    assert after == before
