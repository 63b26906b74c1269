"""Who sees the Reports page, what it shows, and that it never shows another merchant's orders."""

import html

import pytest
from django.urls import reverse

from orderdesk.accounts.models import Membership
from orderdesk.accounts.tests.factories import MembershipFactory, MerchantFactory, owner_actor
from orderdesk.orders.tests.factories import fulfilled_order, pending_order

pytestmark = pytest.mark.django_db


def client_for(client, role, merchant):
    membership = MembershipFactory(merchant=merchant, role=role)
    client.force_login(membership.user)
    return client


@pytest.mark.parametrize("role", [Membership.Role.OWNER, Membership.Role.STAFF])
def test_the_owner_and_staff_see_the_report_and_the_menu_link(client, role):
    owner = owner_actor()
    fulfilled_order(owner)
    client_for(client, role, owner.merchant)

    page = client.get(reverse("reports:report"))

    assert page.status_code == 200
    html = page.content.decode()
    assert 'href="/reports/"' in html
    assert "Vendor scorecard" in html
    assert 'id="sales-chart" type="application/json"' in html
    assert "<script>" not in html  # data only: the Content-Security-Policy forbids inline code
    assert " style=" not in html and " onclick=" not in html
    assert "script-src 'self'" in page["Content-Security-Policy"]


def test_a_vendor_user_is_refused_the_report_the_exports_and_the_menu_link(client):
    merchant = MerchantFactory()
    client_for(client, Membership.Role.VENDOR_USER, merchant)

    for name in ("reports:report", "reports:exports", "reports:export"):
        refused = client.get(reverse(name))
        assert refused.status_code == 403
        assert "Only the shop's owner and staff can see sales and cost reports." in html.unescape(
            refused.content.decode()
        )
    assert 'href="/reports/"' not in client.get(reverse("orders:tracking")).content.decode()


def test_signed_out_the_report_leads_to_sign_in(client):
    answer = client.get(reverse("reports:report"))
    assert answer.status_code == 302 and "/accounts/login/" in answer["Location"]


def test_the_report_counts_only_the_merchants_own_orders(client):
    ours, theirs = owner_actor(), owner_actor(MerchantFactory())
    pending_order(ours)
    for _ in range(3):
        pending_order(theirs)
    client.force_login(ours.user)

    page = client.get(reverse("reports:report"))

    assert page.context["report"].orders == 1
    assert page.context["report"].statuses[1].count == 1


def test_a_period_that_ends_before_it_starts_is_refused_beside_the_field(owner_client):
    page = owner_client.get(reverse("reports:report"), {"starts_on": "2026-11-10", "ends_on": "2026-11-01"})

    assert page.status_code == 200
    assert "The last day comes before the first." in page.content.decode()
    # The wrong last day is left out: the report runs from the first day to today.
    period = page.context["period"]
    assert period.starts_on.isoformat() == "2026-11-10" and period.ends_on >= period.starts_on


def test_a_store_of_another_merchant_is_not_a_choice(owner_client, owner):
    other = owner_actor(MerchantFactory())
    theirs = pending_order(other).store_id

    page = owner_client.get(reverse("reports:report"), {"store": theirs})

    assert page.context["period"].store_id is None
    assert "Select a valid choice" in page.content.decode()
