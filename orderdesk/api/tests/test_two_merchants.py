"""Two merchants' keys against every endpoint in the OpenAPI schema: nothing of one reaches the other."""

import pytest
from rest_framework.test import APIClient

from orderdesk.accounts.actors import Actor
from orderdesk.aftersales.actions import CaseLineInput, open_cases
from orderdesk.catalog.models import Product, Variant
from orderdesk.orders.models import Order, OrderEvent
from orderdesk.orders.tests.factories import dispatched_order, pending_order
from orderdesk.stores.models import Store
from orderdesk.vendors.tests.factories import HostingFactory

from .factories import ORDER_BODY, api_key, client_with

pytestmark = pytest.mark.django_db


def _shop_with_everything():
    key = api_key()
    owner = Actor.for_user(key.api_key.created_by)
    order = pending_order(owner)
    shipped = dispatched_order(owner)
    product = Product.objects.create(merchant=owner.merchant, title="Linen shirt")
    variant = Variant.objects.create(merchant=owner.merchant, product=product, sku="LS-M", price="799.00")
    hosting = HostingFactory(variant=variant)
    (case,) = open_cases(
        shipped.pk,
        by=owner,
        type="other",
        mode="other",
        lines=[CaseLineInput(shipped.lines.first().pk, 1)],
        text="Test",
    )
    return key, {
        "after-sales-cases": case.pk,
        "orders": order.pk,
        "stores": order.store_id,
        "products": product.pk,
        "customers": order.customer_id,
        "shipments": shipped.fulfillments.get().pk,
        "vendors": hosting.vendor_id,
        "hostings": hosting.pk,
    }


def _operations():
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path, methods in schema["paths"].items():
        for method in methods:
            if method in {"get", "post", "put", "patch", "delete"}:
                yield method, path


def test_every_endpoint_with_another_merchants_key_is_404_or_shows_none_of_their_rows():
    theirs, their_ids = _shop_with_everything()
    mine, my_ids = _shop_with_everything()
    client = client_with(mine.token)
    orders_before = list(Order.objects.order_by("pk").values_list("pk", "status", "updated_at"))
    events_before = OrderEvent.objects.count()
    tried = 0
    for method, path in _operations():
        resource = path.split("/")[3]
        if "{id}" in path:
            url = path.replace("{id}", str(their_ids[resource]))
            # A body every action accepts, so only the id decides the answer.
            body = {
                "reason": "Test",
                "delivery_reference": "JT9",
                "expected_on": "2099-01-01",
                "to": "delivered",
            }
            answer = client.post(url, body, format="json") if method == "post" else client.get(url)
            assert answer.status_code == 404, (method, url, answer.status_code)
            assert answer["Content-Type"] == "application/problem+json"
        else:
            if method != "get":
                continue
            answer = client.get(path)
            assert answer.status_code == 200, path
            shown = {row["id"] for row in answer.json()["results"]}
            assert their_ids[resource] not in shown, path
            assert my_ids[resource] in shown, path
            if resource == "orders":
                theirs_all = set(
                    Order.objects.filter(merchant=theirs.api_key.merchant).values_list("pk", flat=True)
                )
                assert not (shown & theirs_all)
        tried += 1
    assert tried >= 12
    assert list(Order.objects.order_by("pk").values_list("pk", "status", "updated_at")) == orders_before
    assert OrderEvent.objects.count() == events_before


def test_an_order_made_with_another_merchants_store_or_variant_is_refused():
    theirs, their_ids = _shop_with_everything()
    mine, _ = _shop_with_everything()
    client = client_with(mine.token)
    their_variant = Variant.objects.get(merchant=theirs.api_key.merchant)
    orders_before = Order.objects.count()
    with_store = client.post("/api/v1/orders", {**ORDER_BODY, "store_id": their_ids["stores"]}, format="json")
    line = {**ORDER_BODY["lines"][0], "variant_id": their_variant.pk}
    with_variant = client.post("/api/v1/orders", {**ORDER_BODY, "lines": [line]}, format="json")
    assert with_store.status_code in (404, 422) and with_variant.status_code in (404, 422)
    assert with_store.json()["detail"] and with_variant.json()["detail"]
    assert Order.objects.count() == orders_before
    assert Store.objects.get(pk=their_ids["stores"]).merchant_id == theirs.api_key.merchant_id
