import datetime

import pytest
from django.utils import timezone

from orderdesk.api.models import ApiKey
from orderdesk.api.throttling import PerApiKeyThrottle
from orderdesk.orders.actions import CustomerDetails
from orderdesk.orders.models import Order, OrderEvent
from orderdesk.orders.tests.factories import awaiting_order, dispatched_order, pending_order
from orderdesk.photos.tests.images import jpeg_upload

from .factories import ORDER_BODY, api_key, client_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def key():
    return api_key()


@pytest.fixture
def client(key):
    return client_with(key.token)


def owner_of(key):
    from orderdesk.accounts.actors import Actor

    return Actor.for_user(key.api_key.created_by)


def test_creating_an_order_records_it_through_record_order_as_the_key(client, key):
    answer = client.post("/api/v1/orders", ORDER_BODY, format="json")
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    order = Order.objects.get(pk=body["id"])
    assert body["status"] == "awaiting_payment" and order.merchant_id == key.api_key.merchant_id
    assert body["total"] == str(order.total) == "2068.50"
    assert [line["title"] for line in body["lines"]] == ["Linen shirt", "Canvas tote"]
    assert body["events"][0]["kind"] == "placed"
    assert body["events"][0]["actor_name"] == "API key “Chat shop”"


def test_creating_an_order_answers_from_what_was_written_in_a_fixed_handful_of_statements(client, key):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    paid = {**ORDER_BODY, "payment_confirmed": True}
    client.post("/api/v1/orders", paid, format="json", HTTP_IDEMPOTENCY_KEY="first")  # store, counter
    with CaptureQueriesContext(connection) as captured:
        answer = client.post("/api/v1/orders", paid, format="json", HTTP_IDEMPOTENCY_KEY="second")
    assert answer.status_code == 201
    # One savepoint and its release: the test's own transaction around the request's (in
    # production the request's transaction is the outermost). record_order makes none of its own.
    savepoints = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" in q["sql"]]
    assert len(savepoints) == 2, savepoints
    statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    # The key; record_order's ten on SQLite, nine on PostgreSQL (a known customer; the
    # merchant's notification choices and the outbox rows of a paid order; the order numbered
    # last, its customer given with its number); the Idempotency-Key claimed with the answer
    # (INSERT … ON CONFLICT DO NOTHING), last but for the tab counter, which SQLite moves just
    # before the commit (PostgreSQL moves it with the order's number). No read-back of the order.
    assert len(statements) == (11 if connection.vendor == "postgresql" else 12), "\n".join(statements)
    before_commit = [sql for sql in statements if not sql.startswith('UPDATE "orders_orderstatuscount"')]
    assert before_commit[-1].startswith('INSERT INTO "api_idempotentrequest"')
    assert not any(sql.startswith('SELECT "orders_') for sql in statements)
    order = Order.objects.get(pk=answer.json()["id"])
    shown = client.get(f"/api/v1/orders/{order.pk}").json()
    assert answer.json() == shown


def test_a_paid_order_goes_straight_to_pending(client):
    answer = client.post("/api/v1/orders", {**ORDER_BODY, "payment_confirmed": True}, format="json")
    assert answer.json()["status"] == "pending"


def test_a_domain_refusal_is_problem_json_with_its_message_and_field_and_records_nothing(client):
    answer = client.post("/api/v1/orders", {**ORDER_BODY, "discount": "99999.00"}, format="json")
    assert answer.status_code == 422
    assert answer["Content-Type"] == "application/problem+json"
    problem = answer.json()
    assert problem["detail"] == "The discount is larger than the order's value."
    assert problem["field"] == "discount"
    assert problem["status"] == 422 and problem["title"] == "Unprocessable Entity"
    assert not Order.objects.exists()


def test_bad_shapes_are_a_400_problem_naming_the_field(client):
    answer = client.post("/api/v1/orders", {**ORDER_BODY, "lines": []}, format="json")
    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.json()["field"] == "lines"
    assert not Order.objects.exists()


def test_verify_dispatch_with_photos_and_fulfill_move_the_order_along(client, key):
    order = awaiting_order(owner_of(key))
    assert client.post(f"/api/v1/orders/{order.pk}/verify-payment").json()["status"] == "pending"
    expected_on = timezone.localdate(timezone=order.merchant.zone) + datetime.timedelta(days=2)
    answer = client.post(
        f"/api/v1/orders/{order.pk}/dispatch",
        {"delivery_reference": "JT123", "expected_on": expected_on.isoformat(), "photos": [jpeg_upload()]},
        format="multipart",
    )
    assert answer.status_code == 200, answer.json()
    shipment = answer.json()["shipments"][0]
    assert answer.json()["status"] == "dispatched"
    assert shipment["delivery_reference"] == "JT123" and shipment["status"] == "in_transit"
    order.refresh_from_db()
    assert order.fulfillments.get().photos.count() == 1
    answer = client.post(f"/api/v1/orders/{order.pk}/fulfill", {"remarks": "Received"}, format="json")
    assert answer.json()["status"] == "fulfilled"


def test_cancel_needs_a_reason_and_then_cancels(client, key):
    order = pending_order(owner_of(key))
    refused = client.post(f"/api/v1/orders/{order.pk}/cancel", {"reason": " "}, format="json")
    assert refused.status_code in (400, 422)
    assert Order.objects.get(pk=order.pk).status == "pending"
    answer = client.post(f"/api/v1/orders/{order.pk}/cancel", {"reason": "Out of stock"}, format="json")
    assert answer.json()["status"] == "cancelled"


def test_a_refused_move_says_why_and_changes_nothing(client, key):
    order = dispatched_order(owner_of(key))
    events_before = OrderEvent.objects.count()
    answer = client.post(f"/api/v1/orders/{order.pk}/verify-payment")
    assert answer.status_code == 422
    assert "already" in answer.json()["detail"] or "dispatched" in answer.json()["detail"]
    assert Order.objects.get(pk=order.pk).status == "dispatched"
    assert OrderEvent.objects.count() == events_before


def test_a_read_key_can_read_but_every_write_is_refused_and_changes_nothing():
    read = api_key(scope=ApiKey.Scope.READ)
    order = awaiting_order(owner_of(read))
    client = client_with(read.token)
    assert client.get(f"/api/v1/orders/{order.pk}").status_code == 200
    events_before = OrderEvent.objects.count()
    writes = [
        ("/api/v1/orders", ORDER_BODY),
        (f"/api/v1/orders/{order.pk}/verify-payment", {}),
        (f"/api/v1/orders/{order.pk}/fulfill", {}),
        (f"/api/v1/orders/{order.pk}/cancel", {"reason": "No"}),
        (f"/api/v1/orders/{order.pk}/dispatch", {"delivery_reference": "X", "expected_on": "2099-01-01"}),
    ]
    for path, body in writes:
        answer = client.post(path, body, format="json")
        assert answer.status_code == 403, path
        assert answer.json()["detail"].startswith("A read-only API key cannot"), path
    assert Order.objects.count() == 1 and Order.objects.get().status == "awaiting_payment"
    assert OrderEvent.objects.count() == events_before


def test_the_list_filters_by_status_store_placed_and_updated_ranges_and_search(client, key):
    owner = owner_of(key)
    old = pending_order(owner, placed_at=timezone.now() - datetime.timedelta(days=10))
    new = awaiting_order(owner, customer=CustomerDetails(name="Jose Rizal", phone="09175550199"))

    def ids(**params):
        return [row["id"] for row in client.get("/api/v1/orders", params).json()["results"]]

    assert ids() == [new.pk, old.pk]
    assert ids(status="pending") == [old.pk]
    assert ids(store=new.store_id) == [new.pk, old.pk]
    week_ago = (timezone.now() - datetime.timedelta(days=7)).isoformat()
    assert ids(placed_after=week_ago) == [new.pk]
    assert ids(placed_before=week_ago) == [old.pk]
    assert ids(updated_after=week_ago) == [new.pk, old.pk]
    assert ids(updated_before=week_ago) == []
    assert ids(search="Jose") == [new.pk]


def test_the_list_pages_by_cursor_without_gaps_or_repeats(client, key):
    owner = owner_of(key)
    made = [awaiting_order(owner).pk for _ in range(5)]
    seen, url = [], "/api/v1/orders?limit=2"
    while url:
        page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == list(reversed(made))


def test_one_order_comes_with_lines_shipments_and_events(client, key):
    order = dispatched_order(owner_of(key))
    body = client.get(f"/api/v1/orders/{order.pk}").json()
    assert len(body["lines"]) == 2
    assert body["shipments"][0]["delivery_reference"] == "JT0001"
    assert body["shipments"][0]["tracking_events"]
    assert [event["kind"] for event in body["events"]][:2] == ["placed", "payment_verified"]


def test_too_many_requests_are_refused_with_429_and_retry_after(monkeypatch, client):
    monkeypatch.setattr(PerApiKeyThrottle, "rate", "3/min", raising=False)
    statuses = [client.get("/api/v1/orders").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/api/v1/orders")
    assert refused["Content-Type"] == "application/problem+json"
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["status"] == 429
    other_key = client_with(api_key().token)
    assert other_key.get("/api/v1/orders").status_code == 200


def test_the_order_list_takes_the_same_few_queries_for_any_page_size(client, key, django_assert_num_queries):
    owner = owner_of(key)
    for _ in range(3):
        awaiting_order(owner)
    client.get("/api/v1/orders")  # "last used" is written on the first request of the minute
    with django_assert_num_queries(2):  # the key, the page
        assert len(client.get("/api/v1/orders").json()["results"]) == 3
    for _ in range(4):
        awaiting_order(owner)
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/orders").json()["results"]) == 7


@pytest.mark.django_db
def test_a_time_filter_with_an_offset_postgresql_refuses_is_read_as_the_same_instant_in_utc():
    from .factories import api_key, client_with

    client = client_with(api_key().token)

    answer = client.get("/api/v1/orders", {"updated_after": "1970-08-19T18:56:31-16:03"})

    assert answer.status_code == 200
