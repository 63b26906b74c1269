"""The table of who may do what, tried pair by pair against an expected grid written out here."""

import itertools

import pytest

from orderdesk.accounts.actors import Actor, ActorKind, NotAMember, Party
from orderdesk.accounts.errors import NotAllowed
from orderdesk.accounts.models import Membership, Merchant, User
from orderdesk.accounts.permissions import Permission, Role, can, ensure_can
from orderdesk.accounts.tests.factories import MembershipFactory, MerchantFactory, UserFactory

# Y: allowed, -: refused. Columns: owner, staff, vendor user, read-only key, read-write key, system.
EXPECTED_GRID = """
view_orders                    Y Y - Y Y Y
record_orders                  Y Y - - Y Y
verify_payments                Y Y - - Y Y
dispatch_orders                Y Y - - Y Y
fulfill_orders                 Y Y - - Y Y
cancel_orders                  Y Y - - Y Y
update_shipments               Y Y Y - Y Y
view_shipments                 Y Y Y Y Y Y
place_with_vendors             Y Y - - Y Y
resend_notifications           Y Y - - - Y
view_account                   Y Y - - - -
manage_notification_contacts   Y - - - - -
choose_notifications           Y - - - - -
invite_people                  Y - - - - -
manage_stores                  Y - - - - -
manage_vendors                 Y - - - Y -
manage_api_keys                Y - - - - -
manage_webhooks                Y - - - - -
view_reports                   Y Y - - - -
view_after_sales               Y Y Y Y Y Y
manage_after_sales             Y Y - - Y Y
answer_after_sales             Y Y Y - Y Y
"""
COLUMNS = ["owner", "staff", "vendor_user", "read_only_key", "read_write_key", "system"]
EXPECTED = {
    (role, permission): mark == "Y"
    for permission, *marks in (line.split() for line in EXPECTED_GRID.strip().splitlines())
    for role, mark in zip(COLUMNS, marks, strict=True)
}


def actor_in_role(role: str) -> Actor:
    """An actor of each kind, built as the app builds them, from unsaved rows (no database)."""
    merchant = Merchant(name="Lakbay Crafts")
    if role in Membership.Role.values:
        return Actor.for_membership(
            Membership(user=User(email="ana@shop.example"), merchant=merchant, role=role)
        )
    if role in ("read_only_key", "read_write_key"):
        return Actor.for_api_key(
            merchant, key_id="k1", label="Warehouse", read_write=role == "read_write_key"
        )
    return Actor.system(merchant, "Shopify sync")


def test_the_expected_grid_names_every_role_and_every_permission():
    assert sorted(COLUMNS) == sorted(Role.values)
    assert sorted({permission for _, permission in EXPECTED}) == sorted(Permission.values)


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "permission"), list(itertools.product(COLUMNS, sorted(Permission.values))))
def test_each_role_may_do_exactly_what_the_table_allows_without_asking_the_database(
    role, permission, django_assert_num_queries
):
    actor = actor_in_role(role)
    assert actor.role == role

    with django_assert_num_queries(0):
        allowed = can(actor, Permission(permission))
        if EXPECTED[(role, permission)]:
            ensure_can(actor, Permission(permission))
        else:
            with pytest.raises(NotAllowed) as refusal:
                ensure_can(actor, Permission(permission))

    assert allowed is EXPECTED[(role, permission)]
    if not allowed:
        assert Permission(permission).label in refusal.value.message


@pytest.mark.parametrize(
    ("role", "permission", "message"),
    [
        ("staff", "invite_people", "Only the shop's owner can invite people."),
        ("staff", "choose_notifications", "Only the shop's owner can choose which notifications are sent."),
        ("vendor_user", "cancel_orders", "Only the shop's owner and staff can cancel orders."),
        ("read_only_key", "dispatch_orders", "A read-only API key cannot dispatch orders."),
        ("read_write_key", "manage_api_keys", "A read-write API key cannot manage API keys."),
        ("system", "invite_people", "The system cannot invite people."),
    ],
)
def test_a_refusal_says_who_may_do_it_or_what_the_actor_is(role, permission, message):
    with pytest.raises(NotAllowed) as refusal:
        ensure_can(actor_in_role(role), Permission(permission))

    assert refusal.value.message == message


def test_every_membership_role_is_a_role_of_the_table():
    assert set(Membership.Role.values) <= set(Role.values)


def test_an_actor_says_who_acts_a_user_an_api_key_or_the_system():
    merchant = Merchant(name="Lakbay Crafts")
    user = User(email="ana@shop.example")

    by_user = Actor.for_membership(Membership(user=user, merchant=merchant, role="staff"))
    by_key = Actor.for_api_key(merchant, key_id="k1", label="Warehouse", read_write=False)
    by_system = Actor.system(merchant, "Payment gateway")

    assert [by_user.kind, by_key.kind, by_system.kind] == [
        ActorKind.USER,
        ActorKind.API_KEY,
        ActorKind.SYSTEM,
    ]
    assert [by_user.display_name, by_key.display_name, by_system.display_name] == [
        "ana@shop.example",
        "API key “Warehouse”",
        "Payment gateway",
    ]
    assert by_user.party == by_key.party == by_system.party == Party(merchant)
    assert by_user.merchant is by_key.merchant is by_system.merchant is merchant


@pytest.mark.django_db
def test_a_user_in_two_shops_acts_through_the_membership_of_the_shop_named():
    user = UserFactory()
    first = MembershipFactory(user=user, role=Membership.Role.OWNER)
    second = MembershipFactory(user=user, role=Membership.Role.STAFF)

    assert Actor.for_user(user, merchant=first.merchant).role == Role.OWNER
    assert Actor.for_user(user, merchant=second.merchant).role == Role.STAFF
    with pytest.raises(NotAMember, match="works for several shops; choose which one"):
        Actor.for_user(user)
    with pytest.raises(NotAMember, match="does not belong to a merchant"):
        Actor.for_user(user, merchant=MerchantFactory())
