"""The bench counts a figure's SQL statements without Django's query log: every statement is
counted (Django's cursors, the prepared ones, COPY), as the log would count them, and none is
written out with its parameters while it is timed."""

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.orders import actions
from orderdesk.orders.tests.factories import new_order, pending_order
from orderdesk.web.benchmark.stats import CountedQueries

pytestmark = pytest.mark.django_db


def _place_one(owner):
    actions.record_order(new_order(), by=owner, payment_confirmed=True)


def _place_a_batch(owner):
    # The batched path: COPY on PostgreSQL.
    actions.record_orders([new_order() for _ in range(5)], by=owner, payment_confirmed=True)


def _dispatch(owner):
    order = pending_order(owner)
    actions.dispatch_order(order.pk, by=owner, delivery_reference="JT1", expected_on=order.due_on)


@pytest.mark.parametrize("action", [_place_one, _place_a_batch, _dispatch])
def test_the_count_is_the_query_logs_count(action):
    owner = owner_actor()
    action(owner)  # once first: what a running process has already read once

    with CaptureQueriesContext(connection) as logged, CountedQueries(connection) as counted:
        action(owner)

    assert counted.count == len(logged.captured_queries) > 3


def test_a_counted_statement_is_never_written_out(monkeypatch):
    owner = owner_actor()
    _dispatch(owner)

    def written_out(*args, **kwargs):
        raise AssertionError("a counted statement was written out with its parameters")

    monkeypatch.setattr(connection.ops, "last_executed_query", written_out)
    monkeypatch.setattr(connection.ops, "compose_sql", written_out, raising=False)
    with CountedQueries(connection) as counted:
        _dispatch(owner)
        _place_a_batch(owner)

    assert counted.count > 10


def test_counting_stops_at_the_end_of_the_block():
    with CountedQueries(connection) as counted, connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 2")

    assert counted.count == 1 and not connection.execute_wrappers


@pytest.mark.django_db(transaction=True)
def test_begin_and_commit_are_counted_as_the_query_log_counts_them():
    owner = owner_actor()
    _place_one(owner)

    with CaptureQueriesContext(connection) as logged, CountedQueries(connection) as counted:
        _place_one(owner)

    assert "COMMIT" in [q["sql"] for q in logged.captured_queries]
    assert counted.count == len(logged.captured_queries)
    assert "_commit" not in connections["default"].__dict__
