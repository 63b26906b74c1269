"""Idempotency-Key on creating POSTs; the threaded tests run on SQLite and, marked, on PostgreSQL."""

import threading

import pytest
from django.db import connection

from orderdesk.api.models import IdempotentRequest
from orderdesk.orders.models import Order

from .factories import ORDER_BODY, api_key, client_with


@pytest.mark.django_db
def test_the_same_key_and_body_replay_the_first_answer_without_a_second_order():
    client = client_with(api_key().token)
    first = client.post("/api/v1/orders", ORDER_BODY, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    again = client.post("/api/v1/orders", ORDER_BODY, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_refused_and_records_nothing():
    client = client_with(api_key().token)
    client.post("/api/v1/orders", ORDER_BODY, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    other = {**ORDER_BODY, "shipping_fee": "0.00"}
    refused = client.post("/api/v1/orders", other, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert refused.status_code == 409
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["detail"] == (
        "This Idempotency-Key was already used for a different request; use a new key."
    )
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_a_refused_request_leaves_its_key_free_for_the_corrected_retry():
    client = client_with(api_key().token)
    bad = client.post(
        "/api/v1/orders", {**ORDER_BODY, "discount": "99999"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert bad.status_code == 422
    assert not IdempotentRequest.objects.exists()
    assert (
        client.post("/api/v1/orders", ORDER_BODY, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    )


@pytest.mark.django_db
def test_keys_are_per_api_key_so_two_clients_never_collide():
    one, two = client_with(api_key().token), client_with(api_key().token)
    assert (
        one.post("/api/v1/orders", ORDER_BODY, format="json", HTTP_IDEMPOTENCY_KEY="same").status_code == 201
    )
    assert (
        two.post("/api/v1/orders", ORDER_BODY, format="json", HTTP_IDEMPOTENCY_KEY="same").status_code == 201
    )
    assert Order.objects.count() == 2


def _ten_identical_posts_make_one_order():
    token = api_key().token
    barrier = threading.Barrier(10)
    answers: list = [None] * 10

    def post(index):
        try:
            barrier.wait()
            answer = client_with(token).post(
                "/api/v1/orders", ORDER_BODY, format="json", HTTP_IDEMPOTENCY_KEY="retry-storm"
            )
            answers[index] = (answer.status_code, answer.json()["id"])
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(index,)) for index in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Order.objects.count() == 1
    only = Order.objects.get().pk
    assert answers == [(201, only)] * 10


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_identical_posts_make_one_order():
    _ten_identical_posts_make_one_order()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_identical_posts_make_one_order_on_postgresql():
    _ten_identical_posts_make_one_order()


@pytest.mark.django_db
def test_a_retry_the_domain_would_refuse_for_what_the_first_did_replays_the_first_answer():
    """The key's row is written last: the retry runs record_order again, which refuses the
    reference the first one took; the key then holds the first answer, which is replayed."""
    client = client_with(api_key().token)
    body = {**ORDER_BODY, "reference": "CHAT-7"}
    first = client.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="ref-7")
    again = client.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="ref-7")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_a_new_key_with_a_taken_reference_is_refused_as_the_domain_words_it():
    client = client_with(api_key().token)
    body = {**ORDER_BODY, "reference": "CHAT-8"}
    client.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="ref-8")
    refused = client.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="ref-9")
    assert refused.status_code == 422
    assert refused.json()["detail"] == "Order reference CHAT-8 is already taken."
    assert not IdempotentRequest.objects.filter(key="ref-9").exists()
