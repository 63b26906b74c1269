import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from orderdesk.accounts.tests.factories import UserFactory
from orderdesk.orders.models import Order
from orderdesk.orders.tests.factories import dispatched_order, pending_order

pytestmark = pytest.mark.django_db


def test_signed_out_the_home_page_offers_sign_in(client):
    page = client.get("/").content.decode()

    assert f'href="{reverse("account_login")}"' in page
    assert 'aria-label="Menu"' not in page


def test_signed_in_the_home_page_counts_orders_by_status_and_reaches_order_tracking(owner_client, owner):
    pending_order(owner)
    late = pending_order(owner)
    Order.objects.filter(pk=late.pk).update(due_on=timezone.localdate() - datetime.timedelta(days=2))
    dispatched_order(owner)

    page = owner_client.get("/").content.decode()

    assert 'href="/orders/?status=pending"' in page
    assert '<span class="tile-count">2</span>\n          <span class="tile-label">Pending</span>' in page
    assert '<span class="tile-count">1</span>\n          <span class="tile-label">Dispatched</span>' in page
    assert "1 late order" in page
    assert 'aria-label="Menu"' in page and ">Order Tracking</a>" in page


def test_a_signed_in_person_without_a_shop_is_told_how_to_join(client):
    client.force_login(UserFactory())

    page = client.get("/").content.decode()

    assert "Your account is not part of a shop yet" in page
