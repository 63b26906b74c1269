"""CompiledOnce: a query compiled by the ORM once, run with each call's values into the same
instances the ORM makes."""

import datetime
from decimal import Decimal

import pytest
from django.db import DataError, connection, transaction
from django.db.models import Value
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from orderdesk.accounts.models import Membership
from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.compiled_queries import CompiledOnce, array_literal, fixed_statement_cursor, prepared_cursor

pytestmark = pytest.mark.django_db


def _memberships(user_id):
    return (
        Membership.objects.filter(user_id=user_id).select_related("user", "merchant", "vendor").order_by("pk")
    )


def test_it_reads_what_the_orm_reads_with_each_calls_values():
    compiled = CompiledOnce(_memberships, 987654321987)
    first, second = owner_actor(), owner_actor()
    for user in (first.user, second.user, first.user):
        got, orm = compiled(user.pk), list(_memberships(user.pk))
        assert got == orm
        for mine, theirs in zip(got, orm, strict=True):
            assert mine.user.email == theirs.user.email == user.email
            assert mine.merchant.name == theirs.merchant.name
            assert mine.vendor is None and theirs.vendor is None
            assert not mine._state.adding and mine._state.db == "default"
    assert compiled(987654321987) == []


def test_constants_and_annotations_are_kept():
    actor = owner_actor()
    compiled = CompiledOnce(
        lambda user_id: _memberships(user_id).filter(role="owner").annotate(answer=Value(42)), 987654321987
    )
    [membership] = compiled(actor.user.pk)
    assert membership.answer == 42 and membership.user == actor.user


def test_a_placeholder_that_is_not_a_parameter_of_its_own_is_refused():
    actor = owner_actor()
    with pytest.raises(ValueError, match="placeholder"):
        CompiledOnce(lambda user_id: _memberships(actor.user.pk), 987654321987)(actor.user.pk)
    with pytest.raises(ValueError, match="different"):
        CompiledOnce(_memberships, 1, 1)
    with pytest.raises(TypeError):
        CompiledOnce(_memberships, 987654321987)()


# Prepared reads (PostgreSQL): the server binds the parameters and psycopg prepares the statement.


def _prepared_names(connection) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.postgres
def test_a_prepared_read_reads_what_the_orm_reads_and_is_prepared_after_the_threshold():
    compiled = CompiledOnce(_memberships, 987654321987, prepared=True)
    first, second = owner_actor(), owner_actor()
    threshold = connection.connection.prepare_threshold
    assert threshold is not None  # DATABASE_PREPARED_STATEMENTS is on by default
    first_or_second = {actor.user.pk: actor.merchant.pk for actor in (first, second)}
    before = _prepared_names(connection)
    for _ in range(threshold + 1):
        for user in (first.user, second.user):
            got = compiled(user.pk)
            assert got == list(_memberships(user.pk))
            assert got[0].user.email == user.email and got[0].merchant_id == first_or_second[user.pk]
    assert compiled(987654321987) == []
    assert len(_prepared_names(connection) - before) == 1


@pytest.mark.postgres
def test_prepared_reads_are_counted_in_the_query_log():
    compiled = CompiledOnce(_memberships, 987654321987, prepared=True)
    actor = owner_actor()
    with CaptureQueriesContext(connection) as captured:
        compiled(actor.user.pk)
        compiled(actor.user.pk)
    assert len(captured) == 2
    assert f"= {actor.user.pk}" in captured[0]["sql"] and float(captured[0]["time"]) >= 0


@pytest.mark.postgres
def test_a_prepared_read_runs_again_after_a_rollback_in_which_it_was_prepared():
    compiled = CompiledOnce(_memberships, 987654321987, prepared=True)
    actor = owner_actor()
    threshold = connection.connection.prepare_threshold
    with pytest.raises(RuntimeError), transaction.atomic():
        for _ in range(threshold + 1):
            assert compiled(actor.user.pk)[0].user == actor.user
        assert _prepared_names(connection)  # prepared within this transaction
        raise RuntimeError("rolled back")
    # psycopg forgot (and deallocated) what it prepared in the rolled-back transaction.
    for _ in range(threshold + 1):
        assert compiled(actor.user.pk)[0].user == actor.user


@pytest.mark.postgres
def test_parameters_of_every_kind_are_bound_by_the_server():
    with prepared_cursor() as cursor:
        for _ in range(connection.connection.prepare_threshold + 1):
            cursor.execute(
                "SELECT %s::bigint + 1, %s::numeric * 2, %s::text IS NULL, 3 = ANY(%s), %s || 'b', %s",
                [2**40, Decimal("1.25"), None, [1, 2, 3], "a", 7],
            )
            assert cursor.fetchone() == (2**40 + 1, Decimal("2.50"), True, True, "ab", 7)


@pytest.mark.postgres
def test_a_prepared_read_raises_djangos_errors_and_a_broken_transaction_is_refused():
    with transaction.atomic():
        with pytest.raises(DataError), transaction.atomic(savepoint=False), prepared_cursor() as cursor:
            cursor.execute("SELECT 1 / %s", [0])
        # As with Django's cursors: nothing more runs in a transaction an error broke.
        with pytest.raises(TransactionManagementError), prepared_cursor() as cursor:
            cursor.execute("SELECT 1")


def test_a_prepared_cursor_is_refused_elsewhere_than_on_postgresql(settings):
    if connection.vendor == "postgresql":
        pytest.skip("SQLite's refusal")
    with pytest.raises(ValueError, match="PostgreSQL"), prepared_cursor():
        pass


@pytest.mark.postgres
def test_a_fixed_statement_is_prepared_on_postgresql_and_counted():
    threshold = connection.connection.prepare_threshold
    before = _prepared_names(connection)
    with CaptureQueriesContext(connection) as captured:
        for number in range(threshold + 1):
            with fixed_statement_cursor() as cursor:
                cursor.execute("SELECT %s::integer + 1, %s || 'b'", [number, "a"])
                assert cursor.fetchone() == (number + 1, "ab")
    assert len(_prepared_names(connection) - before) == 1
    assert len(captured) == threshold + 1


def test_a_fixed_statement_runs_on_djangos_own_cursor_elsewhere_than_on_postgresql():
    if connection.vendor == "postgresql":
        pytest.skip("SQLite's cursor")
    with CaptureQueriesContext(connection) as captured, fixed_statement_cursor() as cursor:
        cursor.execute("SELECT %s + 1, %s || 'b'", [1, "a"])
        assert cursor.fetchone() == (2, "ab")
    assert len(captured) == 1


def test_a_prepared_compiled_read_runs_on_sqlite_as_any_other():
    actor = owner_actor()
    compiled = CompiledOnce(_memberships, 987654321987, prepared=True)
    assert compiled(actor.user.pk) == list(_memberships(actor.user.pk))


def test_a_values_list_is_read_as_the_orms_tuples_with_a_datetime_given_in_the_databases_form():
    from orderdesk.orders.models import Order
    from orderdesk.orders.tests.factories import pending_order

    actor = owner_actor()
    first = datetime.datetime(2026, 3, 4, 10, 0, 0, 123456, tzinfo=datetime.UTC)
    orders = [pending_order(actor, placed_at=first + datetime.timedelta(hours=n)) for n in range(3)]
    middle = orders[1].placed_at

    def placed_until(merchant_id, moment):
        return (
            Order.objects.filter(merchant_id=merchant_id, placed_at__lte=moment)
            .order_by("-placed_at", "-id")
            .values_list("id", "reference", "total", "placed_at", "due_on")[:2]
        )

    compiled = CompiledOnce(placed_until, 987654321987, datetime.datetime(1901, 1, 1, tzinfo=datetime.UTC))
    for moment in (middle, orders[2].placed_at, middle - datetime.timedelta(days=1)):
        got = compiled(actor.merchant.pk, moment)
        assert got == list(placed_until(actor.merchant.pk, moment))
        assert all(type(row) is tuple for row in got)
    assert [row[0] for row in compiled(actor.merchant.pk, middle)] == [orders[1].pk, orders[0].pk]


def test_a_flat_values_list_is_refused():
    with pytest.raises(ValueError, match="values_list"):
        CompiledOnce(
            lambda user_id: Membership.objects.filter(user_id=user_id).values_list("pk", flat=True), 98765
        )(1)


@pytest.mark.postgres
def test_an_array_literal_reads_back_as_the_values_it_was_made_of():
    texts = ['a "quoted", {braced} word', "back\\slash", "", "NULL", "ünï", None]
    numbers = [1, -2, 3_000_000_000, None]
    amounts = [Decimal("12.50"), Decimal("0.01"), None]
    with prepared_cursor() as cursor:
        cursor.execute(
            "SELECT %s::text[], %s::bigint[], %s::numeric[]",
            [array_literal(texts), array_literal(numbers), array_literal(amounts)],
        )
        assert cursor.fetchone() == (texts, numbers, amounts)


def test_an_array_literal_is_refused_a_value_it_cannot_write_exactly():
    assert array_literal([]) == "{}"
    for value in (True, 1.5, datetime.date(2026, 1, 1)):
        with pytest.raises(TypeError):
            array_literal([value])
