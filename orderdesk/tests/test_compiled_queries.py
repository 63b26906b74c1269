"""CompiledOnce: a query compiled by the ORM once, run with each call's values into the same
instances the ORM makes."""

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
