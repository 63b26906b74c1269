"""CompiledOnce: a query compiled by the ORM once, run with each call's values into the same
instances the ORM makes."""

import datetime

import pytest
from django.db.models import Value

from orderdesk.accounts.models import Membership
from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.compiled_queries import CompiledOnce

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
