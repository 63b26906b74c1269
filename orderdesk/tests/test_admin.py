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
