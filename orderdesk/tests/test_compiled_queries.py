"""CompiledOnce: a query compiled by the ORM once, run with each call's values into the same
instances the ORM makes."""

from decimal import Decimal

import pytest
from django.db import DataError, connection, transaction
from django.db.models import Value
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from orderdesk.accounts.models import Membership
from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.compiled_queries import CompiledOnce, prepared_cursor

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


def test_a_prepared_compiled_read_runs_on_sqlite_as_any_other():
    actor = owner_actor()
    compiled = CompiledOnce(_memberships, 987654321987, prepared=True)
    assert compiled(actor.user.pk) == list(_memberships(actor.user.pk))
