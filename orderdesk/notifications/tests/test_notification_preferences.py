import pytest

from orderdesk.accounts.tests.factories import MerchantFactory, owner_actor
from orderdesk.notifications.actions import preferences_for, recipients_for
from orderdesk.notifications.forms import NotificationPreferenceForm
from orderdesk.notifications.models import Notification, NotificationPreference
from orderdesk.orders import actions
from orderdesk.orders.tests.factories import awaiting_order

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
