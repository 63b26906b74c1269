import pytest
from django.urls import reverse

from orderdesk.accounts.models import Membership
from orderdesk.accounts.tests.factories import MembershipFactory, owner_actor
from orderdesk.notifications.actions import preferences_for, update_notification_preferences
from orderdesk.notifications.models import Notification, NotificationPreference
from orderdesk.notifications.preferences import switches
from orderdesk.orders import actions
from orderdesk.orders.tests.factories import awaiting_order

pytestmark = pytest.mark.django_db


def all_on_but(*off: str) -> dict[str, str]:
    """The form as a browser posts it: checked boxes only."""
    return {name: "on" for name in switches() if name not in off}


def switches_of(merchant) -> dict[str, bool]:
    preferences = preferences_for(merchant)
    return {name: preferences.is_on(name) for name in switches()}


def queued_for(order) -> list[tuple[str, str]]:
    return [
        (n.audience, n.channel)
        for n in Notification.objects.filter(about_type="order", about_id=str(order.pk))
    ]


def test_the_owner_sees_every_switch_grouped_by_event_and_all_on_at_first(owner_client):
    page = owner_client.get(reverse("accounts:account")).content.decode()

    assert "Order notifications" in page
    for event in (
        "When a payment is verified",
        "When an order is dispatched",
        "When an order is fulfilled",
        "When an order is cancelled",
        "When a vendor&#x27;s parcel goes in transit",
        "When a vendor&#x27;s parcel is delivered",
        "When a shipment meets an exception",
    ):
        assert f"<legend>{event}</legend>" in page
    assert page.count("Tell me by") == 2 and page.count("Tell the customer by") == 5
    for name in switches():
        assert f'name="{name}" id="id_{name}" checked' in page


def test_the_owner_turns_merchant_sms_off_and_a_verified_payment_then_sends_only_the_email(
    owner_client, owner
):
    response = owner_client.post(
        reverse("accounts:update_notification_preferences"),
        all_on_but("merchant_sms_on_payment", "customer_email_on_cancellation"),
    )

    assert response.status_code == 302 and response.url == reverse("accounts:account")
    page = owner_client.get(response.url).content.decode()
    assert "Order notification choices saved." in page
    assert 'name="merchant_sms_on_payment" id="id_merchant_sms_on_payment">' in page
    assert switches_of(owner.merchant) == {
        name: name not in ("merchant_sms_on_payment", "customer_email_on_cancellation") for name in switches()
    }
    order = actions.verify_payment(awaiting_order(owner).pk, by=owner)
    assert queued_for(order) == [("merchant", "email")]


def test_the_owner_turns_merchant_sms_back_on_and_it_is_sent_again(owner_client, owner):
    owner_client.post(
        reverse("accounts:update_notification_preferences"), all_on_but("merchant_sms_on_payment")
    )

    owner_client.post(reverse("accounts:update_notification_preferences"), all_on_but())

    order = actions.verify_payment(awaiting_order(owner).pk, by=owner)
    assert sorted(queued_for(order)) == [("merchant", "email"), ("merchant", "sms")]


def test_htmx_saves_and_is_told_to_load_the_account_page_so_the_message_shows(owner_client, owner):
    response = owner_client.post(
        reverse("accounts:update_notification_preferences"),
        all_on_but("customer_sms_on_dispatch"),
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == reverse("accounts:account")
    assert switches_of(owner.merchant)["customer_sms_on_dispatch"] is False


def test_staff_see_the_choices_read_only_and_cannot_change_them(client):
    owner = owner_actor()
    update_notification_preferences(
        by=owner, customer_sms_on_fulfillment=False, customer_email_on_fulfillment=False
    )
    staff = MembershipFactory(merchant=owner.merchant, role=Membership.Role.STAFF)
    client.force_login(staff.user)

    page = client.get(reverse("accounts:account")).content.decode()
    assert 'name="merchant_sms_on_payment"' not in page
    assert "<dt>When a payment is verified</dt><dd>Tell me by SMS and Email</dd>" in page
    assert "<dt>When an order is fulfilled</dt><dd>No message</dd>" in page

    before = switches_of(owner.merchant)
    response = client.post(reverse("accounts:update_notification_preferences"), all_on_but())

    assert response.status_code == 422
    assert "Only the shop&#x27;s owner can choose which notifications are sent." in response.content.decode()
    assert switches_of(owner.merchant) == before


def test_staff_refused_by_htmx_get_the_form_back_with_the_message(client):
    staff = MembershipFactory(role=Membership.Role.STAFF)
    client.force_login(staff.user)

    response = client.post(
        reverse("accounts:update_notification_preferences"),
        all_on_but("merchant_sms_on_payment"),
        headers={"HX-Request": "true"},
    )

    page = response.content.decode()
    assert response.status_code == 422
    assert "<html" not in page
    assert "Only the shop&#x27;s owner can choose which notifications are sent." in page
    assert not NotificationPreference.objects.filter(merchant=staff.merchant).exists()


def test_one_owners_choices_leave_another_merchant_alone(owner_client, owner):
    other = owner_actor()

    owner_client.post(reverse("accounts:update_notification_preferences"), {})

    assert not any(switches_of(owner.merchant).values())
    assert all(switches_of(other.merchant).values())
    assert not NotificationPreference.objects.filter(merchant=other.merchant).exists()
    order = actions.verify_payment(awaiting_order(other).pk, by=other)
    assert sorted(queued_for(order)) == [("merchant", "email"), ("merchant", "sms")]
    mine = actions.verify_payment(awaiting_order(owner).pk, by=owner)
    assert queued_for(mine) == []


def test_changing_the_choices_needs_a_post(owner_client):
    assert owner_client.get(reverse("accounts:update_notification_preferences")).status_code == 405
