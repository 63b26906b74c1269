import pytest

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.errors import NotAllowed
from orderdesk.accounts.models import Membership
from orderdesk.accounts.tests.factories import MembershipFactory, MerchantFactory, owner_actor
from orderdesk.notifications.actions import preferences_for, update_notification_preferences
from orderdesk.notifications.forms import NotificationPreferenceForm
from orderdesk.notifications.models import NotificationPreference
from orderdesk.notifications.preferences import switches
from orderdesk.orders import actions
from orderdesk.orders.messages import recipients_for
from orderdesk.orders.tests.factories import awaiting_order, pending_order
from orderdesk.orders.tests.messages import messages_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("notification_settings")]


def test_the_preference_form_saves_the_merchants_choices_and_queueing_honours_them():
    actor = owner_actor()
    data = {name: "on" for name in switches() if name != "merchant_email_on_payment"}

    form = NotificationPreferenceForm(data, preferences=preferences_for(actor.merchant))
    assert form.is_valid(), form.errors
    update_notification_preferences(by=actor, **form.cleaned_data)

    saved = preferences_for(actor.merchant)
    assert (
        saved.is_on("merchant_email_on_payment") is False and saved.is_on("merchant_sms_on_payment") is True
    )
    assert NotificationPreference.objects.get(merchant=actor.merchant, enabled=False).channel == "email"
    order = awaiting_order(actor)
    assert [channel for _, channel, _ in recipients_for(order, "payment_verified")] == ["sms"]


def test_the_owner_turns_switches_off_and_on_and_the_rest_keep_their_value():
    actor = owner_actor()

    update_notification_preferences(by=actor, merchant_sms_on_payment=False, customer_email_on_dispatch=False)
    update_notification_preferences(by=actor, customer_email_on_dispatch=True)

    saved = preferences_for(actor.merchant)
    assert {name: saved.is_on(name) for name in switches()} == {
        name: name != "merchant_sms_on_payment" for name in switches()
    }


def test_after_the_owner_turns_merchant_sms_off_a_verified_payment_queues_only_the_email():
    actor = owner_actor()
    update_notification_preferences(by=actor, merchant_sms_on_payment=False)

    order = actions.verify_payment(awaiting_order(actor).pk, by=actor)

    queued = messages_of(order)
    assert [(n.audience, n.channel) for n in queued] == [("merchant", "email")]


def test_after_the_owner_turns_customer_email_off_a_dispatch_queues_only_the_customers_sms():
    actor = owner_actor()
    update_notification_preferences(by=actor, customer_email_on_dispatch=False)
    order = pending_order(actor)

    dispatched_order = actions.dispatch_order(
        order.pk, by=actor, delivery_reference="JT77", expected_on=order.due_on
    )

    queued = messages_of(dispatched_order).filter(topic="order.dispatched")
    assert [(n.audience, n.channel) for n in queued] == [("customer", "sms")]


def test_staff_cannot_change_the_switches_and_nothing_is_saved():
    merchant = MerchantFactory()
    staff = Actor.for_user(MembershipFactory(merchant=merchant, role=Membership.Role.STAFF).user)

    with pytest.raises(NotAllowed) as refusal:
        update_notification_preferences(by=staff, merchant_sms_on_payment=False)

    assert refusal.value.message == "Only the shop's owner can choose which notifications are sent."
    assert not NotificationPreference.objects.filter(merchant=merchant).exists()
    assert preferences_for(merchant).is_on("merchant_sms_on_payment") is True


def test_one_merchants_switches_leave_another_merchants_alone():
    actor, other = owner_actor(), owner_actor()
    update_notification_preferences(by=other, customer_sms_on_cancellation=True)

    update_notification_preferences(
        by=actor, merchant_sms_on_payment=False, customer_sms_on_cancellation=False
    )

    assert preferences_for(other.merchant).is_on("merchant_sms_on_payment") is True
    assert preferences_for(other.merchant).is_on("customer_sms_on_cancellation") is True
    order = actions.verify_payment(awaiting_order(other).pk, by=other)
    assert sorted(n.channel for n in messages_of(order)) == ["email", "sms"]


def test_a_switch_that_does_not_exist_is_a_programming_error():
    actor = owner_actor()

    with pytest.raises(TypeError, match="merchant_pigeon_on_payment"):
        update_notification_preferences(by=actor, merchant_pigeon_on_payment=True)

    assert not NotificationPreference.objects.filter(merchant=actor.merchant).exists()


def test_the_form_groups_hold_every_switch_once():
    grouped = [field.name for group in NotificationPreferenceForm().groups() for _, field in group.switches]
    assert sorted(grouped) == sorted(switches())
    # The four order events' and the three shipment messages' switches, SMS and email each.
    assert len(grouped) == 14


def test_the_form_labels_say_who_hears_of_what():
    form = NotificationPreferenceForm()
    assert form["customer_sms_on_dispatch"].label == "SMS the customer when an order is dispatched"


def test_merchant_preferences_are_editable_in_the_admin(admin_client):
    merchant = MerchantFactory()
    response = admin_client.post(
        "/admin/notifications/notificationpreference/add/",
        {
            "merchant": merchant.pk,
            "topic": "order.dispatched",
            "channel": "email",
            "audience": "customer",
            "enabled": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = NotificationPreference.objects.get(merchant=merchant)
    preferences = preferences_for(merchant)
    assert not preferences.is_on("customer_email_on_dispatch")
    assert preferences.is_on("customer_sms_on_dispatch") and preferences.is_on("merchant_email_on_payment")
    assert (
        admin_client.get(f"/admin/notifications/notificationpreference/{saved.pk}/change/").status_code == 200
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
    failed = messages_of(order).get(status="failed")
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
