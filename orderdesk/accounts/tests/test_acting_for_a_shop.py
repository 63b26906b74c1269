"""A person with memberships in two shops chooses, from the menu, which one they act for."""

import pytest
from django.urls import reverse

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.models import Membership
from orderdesk.accounts.tests.factories import MembershipFactory, MerchantFactory, UserFactory, owner_actor
from orderdesk.orders.models import Order
from orderdesk.orders.tests.factories import pending_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_shops():
    """Ana owns "Alpha Shop" and is staff at "Beta Shop"; each shop has one pending order."""
    ana = UserFactory(email="ana@shop.example")
    alpha = MembershipFactory(
        user=ana, merchant=MerchantFactory(name="Alpha Shop"), role=Membership.Role.OWNER
    )
    beta = MembershipFactory(user=ana, merchant=MerchantFactory(name="Beta Shop"), role=Membership.Role.STAFF)
    alpha_order = pending_order(owner_actor(alpha.merchant), reference="ALPHA-1")
    beta_order = pending_order(owner_actor(beta.merchant), reference="BETA-1")
    return {"ana": ana, "alpha": alpha, "beta": beta, "alpha_order": alpha_order, "beta_order": beta_order}


def pending_list(client) -> str:
    return client.get(reverse("orders:tracking"), {"status": "pending"}).content.decode()


def act_for(client, membership_id):
    return client.post(reverse("accounts:act_for"), {"membership": membership_id}, follow=True)


def test_a_person_in_two_shops_acts_for_each_in_turn_and_sees_only_that_shops_orders(client, two_shops):
    client.force_login(two_shops["ana"])

    # Until they choose, they act for the first shop in the menu (by name).
    alpha_page = pending_list(client)
    assert "ALPHA-1" in alpha_page and "BETA-1" not in alpha_page
    assert 'id="acting-for"' in alpha_page
    assert "Alpha Shop · Owner" in alpha_page and "Beta Shop · Staff" in alpha_page

    switched = act_for(client, two_shops["beta"].pk)

    assert "You are now acting for Beta Shop." in switched.content.decode()
    beta_page = pending_list(client)
    assert "BETA-1" in beta_page and "ALPHA-1" not in beta_page
    assert client.get(reverse("orders:detail", args=[two_shops["alpha_order"].pk])).status_code == 404
    assert client.get(reverse("orders:detail", args=[two_shops["beta_order"].pk])).status_code == 200
    account = client.get(reverse("accounts:account")).content.decode()
    assert "<dd>Staff</dd>" in account and "Beta Shop" in account

    act_for(client, two_shops["alpha"].pk)
    assert "ALPHA-1" in pending_list(client)


def test_what_a_person_does_is_done_for_the_shop_they_act_for(client, two_shops):
    client.force_login(two_shops["ana"])
    act_for(client, two_shops["beta"].pk)

    refused = client.post(
        reverse("orders:cancel", args=[two_shops["alpha_order"].pk]), {"reason": "Out of stock"}
    )
    done = client.post(
        reverse("orders:cancel", args=[two_shops["beta_order"].pk]), {"reason": "Out of stock"}
    )

    assert refused.status_code == 404
    assert done.status_code == 302
    two_shops["alpha_order"].refresh_from_db()
    two_shops["beta_order"].refresh_from_db()
    assert two_shops["alpha_order"].status == Order.Status.PENDING
    assert two_shops["beta_order"].status == Order.Status.CANCELLED
    assert two_shops["beta_order"].events.latest("created_at", "pk").actor == two_shops["ana"]


def test_choosing_a_membership_that_is_not_ones_own_is_refused_and_changes_nothing(client, two_shops):
    someone_elses = MembershipFactory(merchant=MerchantFactory(name="Gamma Shop"))
    pending_order(Actor.for_user(someone_elses.user), reference="GAMMA-1")
    client.force_login(two_shops["ana"])
    act_for(client, two_shops["beta"].pk)

    for attempt in (someone_elses.pk, "999999", "not a number", ""):
        refused = act_for(client, attempt)

        assert "You are not a member of that shop." in refused.content.decode()
        page = pending_list(client)
        assert "BETA-1" in page and "GAMMA-1" not in page and "ALPHA-1" not in page


def test_a_person_with_one_membership_never_sees_the_choice(owner_client):
    page = owner_client.get(reverse("orders:tracking")).content.decode()

    assert owner_client.get(reverse("orders:tracking")).status_code == 200
    assert "Acting for" not in page
    assert 'id="acting-for"' not in page


def test_a_signed_out_visitor_cannot_choose_a_shop(client, two_shops):
    response = client.post(reverse("accounts:act_for"), {"membership": two_shops["beta"].pk})

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
