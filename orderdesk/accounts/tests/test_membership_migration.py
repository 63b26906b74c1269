"""Memberships made before users could have several survive the migration that allows several."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("accounts", "0001_initial")]
AFTER = [("accounts", "0002_memberships_many_per_user")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_every_existing_membership_and_then_allows_one_per_shop():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    merchant = old.get_model("accounts", "Merchant").objects.create(name="Lakbay Crafts", short_name="LAKBAY")
    user = old.get_model("accounts", "User").objects.create(email="rosa@lakbay.example")
    old.get_model("accounts", "Membership").objects.create(user=user, merchant=merchant, role="owner")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    Membership = new.get_model("accounts", "Membership")

    assert list(Membership.objects.values_list("user__email", "merchant__name", "role")) == [
        ("rosa@lakbay.example", "Lakbay Crafts", "owner")
    ]
    second_shop = new.get_model("accounts", "Merchant").objects.create(name="Second Shop", short_name="TWO")
    Membership.objects.create(user_id=user.pk, merchant=second_shop, role="owner")
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user_id=user.pk, merchant_id=merchant.pk, role="staff")
    assert Membership.objects.filter(user_id=user.pk).count() == 2

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
