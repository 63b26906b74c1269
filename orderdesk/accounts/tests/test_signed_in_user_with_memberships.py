"""The signed-in user is read together with their memberships (accounts.middleware), one query
for both; nothing about them is kept between requests, so a change of role, a removal, a new
password or a deactivated account counts from the very next request."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orderdesk.accounts.models import Membership, User
from orderdesk.accounts.tests.factories import MembershipFactory, MerchantFactory, UserFactory

pytestmark = pytest.mark.django_db

TRACKING = reverse("orders:tracking")
VENDORS_LINK = f'href="{reverse("vendors:list")}"'


@pytest.fixture
def ana(client):
    membership = MembershipFactory(
        user=UserFactory(email="ana@shop.example"),
        merchant=MerchantFactory(name="Alpha Shop"),
        role=Membership.Role.OWNER,
    )
    client.force_login(membership.user)
    return membership


def _statements(client, url) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    return response, [query["sql"] for query in captured.captured_queries]


def test_a_page_reads_the_session_then_the_user_with_their_memberships_in_one_query(client, ana):
    client.get(TRACKING)

    response, sql = _statements(client, TRACKING)

    assert response.status_code == 200
    assert "django_session" in sql[0]
    assert all(table in sql[1] for table in ("accounts_membership", "accounts_user", "accounts_merchant"))
    # No query of the user alone, none of the memberships again.
    assert not any(statement.startswith('SELECT "accounts_user"') for statement in sql)
    assert sum("accounts_membership" in statement for statement in sql) == 1


def test_a_new_role_counts_from_the_next_request(client, ana):
    assert VENDORS_LINK in client.get(TRACKING).content.decode()  # the owner's menu

    Membership.objects.filter(pk=ana.pk).update(role=Membership.Role.STAFF)

    assert VENDORS_LINK not in client.get(TRACKING).content.decode()
    assert client.get(reverse("vendors:list")).status_code == 403


def test_a_removed_member_is_not_served_the_shop_on_the_next_request(client, ana):
    assert client.get(TRACKING).status_code == 200

    Membership.objects.filter(pk=ana.pk).delete()

    response = client.get(TRACKING)
    assert response.status_code == 403
    assert "not part of a shop" in response.content.decode()


def test_a_person_without_a_membership_stays_signed_in_and_is_told_so(client, django_assert_num_queries):
    loner = UserFactory(email="loner@shop.example")
    client.force_login(loner)

    # Session; the (empty) user-with-memberships read; the user on their own, as Django reads them.
    with django_assert_num_queries(3):
        response = client.get(TRACKING)

    assert response.status_code == 403
    assert "loner@shop.example" in response.content.decode()


def test_a_changed_password_signs_out_every_other_session(client, ana):
    assert client.get(TRACKING).status_code == 200

    user = User.objects.get(pk=ana.user_id)
    user.set_password("a brand new horse battery")
    user.save()

    response = client.get(TRACKING)
    assert response.status_code == 302 and "/login" in response["Location"]
    assert "_auth_user_id" not in client.session  # Django flushed the session


def test_a_deactivated_account_is_signed_out(client, ana):
    assert client.get(TRACKING).status_code == 200

    User.objects.filter(pk=ana.user_id).update(is_active=False)

    response = client.get(TRACKING)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_a_session_from_a_backend_no_longer_configured_is_signed_out(client, ana):
    session = client.session
    session[BACKEND_SESSION_KEY] = "some.removed.Backend"
    session.save()

    response = client.get(TRACKING)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_a_person_in_two_shops_gets_both_in_the_menu_from_the_one_read(client, ana):
    MembershipFactory(user=ana.user, merchant=MerchantFactory(name="Beta Shop"), role=Membership.Role.STAFF)

    page = client.get(TRACKING).content.decode()

    assert "Alpha Shop · Owner" in page and "Beta Shop · Staff" in page
