import pytest

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.errors import NotAllowed
from orderdesk.accounts.models import Membership
from orderdesk.accounts.tests.factories import MembershipFactory, MerchantFactory, owner_actor
from orderdesk.notifications.actions import (
    preferences_for,
    recipients_for,
    update_notification_preferences,
)
from orderdesk.notifications.forms import NotificationPreferenceForm
from orderdesk.notifications.models import Notification, NotificationPreference
from orderdesk.orders import actions
from orderdesk.orders.tests.factories import awaiting_order, pending_order

pytestmark = pytest.mark.django_db


def test_the_preference_form_saves_the_merchants_choices_and_queueing_honours_them():
    actor = owner_actor()
    data = {
        name: "on" for name in NotificationPreferenceForm.Meta.fields if name != "merchant_email_on_payment"
    }

    form = NotificationPreferenceForm(data, instance=preferences_for(actor.merchant))
    assert form.is_valid(), form.errors
    form.save()

    saved = NotificationPreference.objects.get(merchant=actor.merchant)
    assert saved.merchant_email_on_payment is False and saved.merchant_sms_on_payment is True
    order = awaiting_order(actor)
    assert [channel for _, channel, _ in recipients_for(order, "payment_verified")] == ["sms"]


def test_the_owner_turns_switches_off_and_on_and_the_rest_keep_their_value():
    actor = owner_actor()

    update_notification_preferences(by=actor, merchant_sms_on_payment=False, customer_email_on_dispatch=False)
    update_notification_preferences(by=actor, customer_email_on_dispatch=True)

    saved = NotificationPreference.objects.get(merchant=actor.merchant)
    assert {name: getattr(saved, name) for name in NotificationPreference.SWITCHES} == {
        name: name != "merchant_sms_on_payment" for name in NotificationPreference.SWITCHES
    }


def test_after_the_owner_turns_merchant_sms_off_a_verified_payment_queues_only_the_email():
    actor = owner_actor()
    update_notification_preferences(by=actor, merchant_sms_on_payment=False)

    order = actions.verify_payment(awaiting_order(actor).pk, by=actor)

    queued = Notification.objects.filter(order=order)
    assert [(n.audience, n.channel) for n in queued] == [("merchant", "email")]


def test_after_the_owner_turns_customer_email_off_a_dispatch_queues_only_the_customers_sms():
    actor = owner_actor()
    update_notification_preferences(by=actor, customer_email_on_dispatch=False)
    order = pending_order(actor)

    dispatched_order = actions.dispatch_order(
        order.pk, by=actor, delivery_reference="JT77", expected_on=order.due_on
    )

    queued = Notification.objects.filter(order=dispatched_order, trigger="dispatched")
    assert [(n.audience, n.channel) for n in queued] == [("customer", "sms")]


def test_staff_cannot_change_the_switches_and_nothing_is_saved():
    merchant = MerchantFactory()
    staff = Actor.for_user(MembershipFactory(merchant=merchant, role=Membership.Role.STAFF).user)

    with pytest.raises(NotAllowed) as refusal:
        update_notification_preferences(by=staff, merchant_sms_on_payment=False)

    assert refusal.value.message == "Only the shop's owner can choose which notifications are sent."
    assert not NotificationPreference.objects.filter(merchant=merchant).exists()
    assert preferences_for(merchant).merchant_sms_on_payment is True


def test_one_merchants_switches_leave_another_merchants_alone():
    actor, other = owner_actor(), owner_actor()
    update_notification_preferences(by=other, customer_sms_on_cancellation=True)

    update_notification_preferences(
        by=actor, merchant_sms_on_payment=False, customer_sms_on_cancellation=False
    )

    assert preferences_for(other.merchant).merchant_sms_on_payment is True
    assert preferences_for(other.merchant).customer_sms_on_cancellation is True
    order = actions.verify_payment(awaiting_order(other).pk, by=other)
    assert sorted(n.channel for n in Notification.objects.filter(order=order)) == ["email", "sms"]


def test_a_switch_that_does_not_exist_is_a_programming_error():
    actor = owner_actor()

    with pytest.raises(TypeError, match="merchant_pigeon_on_payment"):
        update_notification_preferences(by=actor, merchant_pigeon_on_payment=True)

    assert not NotificationPreference.objects.filter(merchant=actor.merchant).exists()


def test_the_form_groups_hold_every_switch_once():
    grouped = [field.name for group in NotificationPreferenceForm().groups() for _, field in group.switches]
    assert sorted(grouped) == sorted(NotificationPreference.SWITCHES)


def test_the_form_labels_say_who_hears_of_what():
    form = NotificationPreferenceForm()
    assert form["customer_sms_on_dispatch"].label == "SMS the customer when an order is dispatched"


def test_merchant_preferences_are_editable_in_the_admin(admin_client):
    merchant = MerchantFactory()
    response = admin_client.post(
        "/admin/notifications/notificationpreference/add/",
        {"merchant": merchant.pk, "merchant_sms_on_payment": "on", "customer_sms_on_dispatch": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = NotificationPreference.objects.get(merchant=merchant)
    assert saved.merchant_sms_on_payment and saved.customer_sms_on_dispatch
    assert not saved.merchant_email_on_payment and not saved.customer_email_on_dispatch
    assert (
        admin_client.get(f"/admin/notifications/notificationpreference/{merchant.pk}/change/").status_code
        == 200
    )


def test_failed_messages_can_be_resent_from_the_admin_list(
    admin_client, settings, sms_folder, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "semaphore"
    settings.SEMAPHORE_API_KEY, settings.SEMAPHORE_API_BASE = "key", "http://127.0.0.1:9"
    settings.NOTIFICATION_MAX_ATTEMPTS = 1
    actor = owner_actor(MerchantFactory(notification_email=""))
    order = awaiting_order(actor)
    with django_capture_on_commit_callbacks(execute=True):
        actions.verify_payment(order.pk, by=actor)
    failed = Notification.objects.get(order=order, status="failed")
    settings.SMS_BACKEND = "file"
    assert admin_client.get("/admin/notifications/notification/").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/notifications/notification/",
            {"action": "resend_failed", "_selected_action": [failed.pk]},
        )

    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == "sent"
    assert order.events.get(kind="notification_resent").actor_name.startswith("Operator ")
