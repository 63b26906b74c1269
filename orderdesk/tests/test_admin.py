"""Every model has a back-office page whose list, filters and search answer."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.orders.tests.factories import dispatched_order

pytestmark = pytest.mark.django_db

OUR_MODELS = [m for m in apps.get_models() if m.__module__.startswith("orderdesk.")]


def test_every_orderdesk_model_is_in_the_admin():
    missing = [m.__name__ for m in OUR_MODELS if not admin.site.is_registered(m)]
    assert missing == []


@pytest.mark.parametrize("model", OUR_MODELS, ids=lambda m: m.__name__)
def test_each_admin_list_answers_with_a_search(admin_client, model):
    dispatched_order(owner_actor())
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "OD-1001"}).status_code == 200


def test_the_order_admin_finds_an_order_by_its_exact_reference(admin_client):
    order = dispatched_order(owner_actor())
    response = admin_client.get(reverse("admin:orders_order_changelist"), {"q": order.reference})
    assert order.customer_name in response.content.decode()
    assert admin_client.get(reverse("admin:orders_order_change", args=[order.pk])).status_code == 200


def test_the_admin_cannot_add_change_or_delete_orders_or_their_shipments(admin_client):
    order = dispatched_order(owner_actor())
    shipment = order.fulfillments.get()

    assert admin_client.get(reverse("admin:orders_order_add")).status_code == 403
    response = admin_client.post(reverse("admin:orders_order_delete", args=[order.pk]), {"post": "yes"})
    assert response.status_code == 403
    response = admin_client.post(
        reverse("admin:fulfillment_fulfillment_change", args=[shipment.pk]), {"status": "delivered"}
    )
    assert response.status_code == 403
    order.refresh_from_db()
    shipment.refresh_from_db()
    assert order.status == "dispatched"
    assert shipment.status == "in_transit"
    # Still readable for support work.
    assert admin_client.get(reverse("admin:orders_order_change", args=[order.pk])).status_code == 200


def test_a_customer_phone_entered_in_the_admin_is_stored_in_e164(admin_client):
    from orderdesk.customers.models import Customer

    merchant = owner_actor().merchant
    response = admin_client.post(
        reverse("admin:customers_customer_add"),
        {"merchant": merchant.pk, "name": "Walk-in", "phone": "0917 555 0199", "email": "", "address": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Customer.objects.get(name="Walk-in").phone == "+639175550199"

    refused = admin_client.post(
        reverse("admin:customers_customer_add"),
        {"merchant": merchant.pk, "name": "Typo", "phone": "12", "email": "", "address": ""},
    )
    assert "is not a valid phone number" in refused.content.decode()
    assert not Customer.objects.filter(name="Typo").exists()
