"""The after-sales pages over HTTP: the four steps, a refusal that keeps what was chosen, the
case page for each side, and what a vendor never sees."""

import pytest
from django.urls import reverse

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.aftersales import actions
from orderdesk.aftersales.actions import CaseLineInput
from orderdesk.aftersales.models import AfterSalesCase
from orderdesk.photos.tests.images import jpeg_upload
from orderdesk.vendors.tests.factories import VendorFactory

from .factories import shipped_order, vendor_actor

pytestmark = pytest.mark.django_db


def signed_in(client, actor):
    client.force_login(actor.user)
    return client


def test_the_four_steps_open_a_case_with_the_vendor(client):
    shipped = shipped_order()
    client = signed_in(client, shipped.owner)
    url = reverse("aftersales:new", args=[shipped.order.pk])
    shirt = f"qty_{shipped.shirt.pk}"

    page = client.get(url)
    assert page.status_code == 200 and "Product broken" in page.content.decode()
    step2 = client.post(url, {"step": 1, "type": "product_broken"})
    assert 'aria-current="step"><span>2</span> Mode' in step2.content.decode()
    step3 = client.post(url, {"step": 2, "type": "product_broken", "mode": "resend"})
    assert "2 of 2 shipped by" in step3.content.decode()
    step4 = client.post(url, {"step": 3, "type": "product_broken", "mode": "resend", shirt: "1"})
    assert "1 × Linen shirt" in step4.content.decode()
    done = client.post(
        url,
        {
            "step": 4,
            "type": "product_broken",
            "mode": "resend",
            shirt: "1",
            "text": "Torn",
            "photos": jpeg_upload(),
        },
    )

    case = AfterSalesCase.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse("aftersales:case", args=[case.pk])
    assert (case.vendor_id, case.type, case.mode, case.text) == (
        shipped.vendor.pk,
        "product_broken",
        "resend",
        "Torn",
    )
    assert case.photos.count() == 1


def test_a_refused_claim_goes_back_to_the_products_keeping_what_was_chosen(client):
    shipped = shipped_order()
    client = signed_in(client, shipped.owner)
    url = reverse("aftersales:new", args=[shipped.order.pk])

    refused = client.post(
        url,
        {
            "step": 4,
            "type": "wrong_item",
            "mode": "refund",
            f"qty_{shipped.shirt.pk}": "5",
            "text": "Wrong colour",
        },
    )

    body = refused.content.decode()
    assert refused.status_code == 422
    assert 'aria-current="step"><span>3</span> Products' in body
    assert "Ensure this value is less than or equal to 2." in body or "cannot be claimed" in body
    assert 'name="type" value="wrong_item"' in body and 'name="mode" value="refund"' in body
    assert not AfterSalesCase.objects.exists()


def test_an_empty_text_is_refused_beside_it_with_the_choices_kept(client):
    shipped = shipped_order()
    client = signed_in(client, shipped.owner)
    refused = client.post(
        reverse("aftersales:new", args=[shipped.order.pk]),
        {"step": 4, "type": "logistics_issue", "mode": "resend", f"qty_{shipped.tote.pk}": "1", "text": " "},
    )
    body = refused.content.decode()
    assert refused.status_code == 422
    assert "Say what happened: the words that prove the problem." in body
    assert "Logistics issue" in body and "1 × Canvas tote" in body


def test_the_order_page_has_the_button_and_lists_the_orders_cases(client):
    shipped = shipped_order()
    actions.open_cases(
        shipped.order.pk,
        by=shipped.owner,
        type="other",
        mode="other",
        lines=[CaseLineInput(shipped.tote.pk, 1)],
        text="Scratched",
    )
    body = (
        signed_in(client, shipped.owner)
        .get(reverse("orders:detail", args=[shipped.order.pk]))
        .content.decode()
    )
    assert "Confirm After Sales" in body
    assert "After-sales" in body and "Other · Other" in body


def vendor_case(shipped, mode="refund"):
    (case,) = actions.open_cases(
        shipped.order.pk,
        by=shipped.owner,
        type="product_broken",
        mode=mode,
        lines=[CaseLineInput(shipped.shirt.pk, 2)],
        text="Both torn",
    )
    return case


def test_the_vendor_sees_its_case_and_the_credit_asked_but_no_price_of_the_order(client):
    shipped = shipped_order()
    case = vendor_case(shipped)
    client = signed_in(client, shipped.vendor_user)

    body = client.get(reverse("aftersales:case", args=[case.pk])).content.decode()

    assert "Both torn" in body and "700.00" in body  # the credit asked: 2 × (300 + 50)
    for price in ("799.00", "1,598.00", "2,068.50", "350.50", "Customer paid"):
        assert price not in body
    assert "Accept" in body and "Reject" in body and "Record refund" not in body


def test_the_vendor_answers_and_the_merchant_sees_it(client):
    shipped = shipped_order()
    case = vendor_case(shipped)
    vendor_client = signed_in(client, shipped.vendor_user)
    answer = vendor_client.post(
        reverse("aftersales:step", args=[case.pk, "accept"]), {"vendor_credit": "650.00"}
    )
    assert answer.status_code == 302
    case.refresh_from_db()
    assert case.status == "accepted" and str(case.vendor_credit) == "650.00"


def test_a_vendor_refusal_is_shown_beside_the_field_and_changes_nothing(client):
    shipped = shipped_order()
    case = vendor_case(shipped)
    client = signed_in(client, shipped.vendor_user)
    refused = client.post(reverse("aftersales:step", args=[case.pk, "reject"]), {"reason": ""})
    assert refused.status_code == 422
    assert "Say why the case is rejected." in refused.content.decode()
    case.refresh_from_db()
    assert case.status == "open"


def test_another_vendor_and_another_merchant_get_a_404(client):
    shipped = shipped_order()
    case = vendor_case(shipped)
    other_vendor = vendor_actor(VendorFactory(merchant=shipped.owner.merchant))
    stranger = owner_actor()
    for actor in (other_vendor, stranger):
        client = signed_in(client, actor)
        assert client.get(reverse("aftersales:case", args=[case.pk])).status_code == 404
        assert client.post(reverse("aftersales:step", args=[case.pk, "accept"]), {}).status_code == 404
        assert f"Case #{case.pk}" not in client.get(reverse("aftersales:list")).content.decode()
    assert client.get(reverse("aftersales:new", args=[shipped.order.pk])).status_code == 404
    case.refresh_from_db()
    assert case.status == "open"


def test_a_vendor_cannot_open_the_new_case_form(client):
    shipped = shipped_order()
    response = signed_in(client, shipped.vendor_user).get(reverse("aftersales:new", args=[shipped.order.pk]))
    assert response.status_code == 403


def test_the_after_sales_view_lists_open_cases_first_oldest_first(client):
    shipped = shipped_order()
    first, second = actions.open_cases(
        shipped.order.pk,
        by=shipped.owner,
        type="other",
        mode="other",
        lines=[CaseLineInput(shipped.shirt.pk, 1), CaseLineInput(shipped.tote.pk, 1)],
        text="Hmm",
    )
    actions.close_case(first.pk, by=shipped.owner)
    (third,) = actions.open_cases(
        shipped.order.pk,
        by=shipped.owner,
        type="other",
        mode="other",
        lines=[CaseLineInput(shipped.shirt.pk, 1)],
        text="Again",
    )

    body = signed_in(client, shipped.owner).get(reverse("aftersales:list")).content.decode()

    positions = [body.index(f"Case #{case.pk}<") for case in (second, third, first)]
    assert positions == sorted(positions)
    assert "2 open cases" in body


def test_the_after_sales_view_takes_the_same_queries_for_3_cases_as_for_30(client, django_assert_num_queries):
    shipped = shipped_order()
    for _ in range(3):
        (case,) = actions.open_cases(
            shipped.order.pk,
            by=shipped.owner,
            type="other",
            mode="other",
            lines=[CaseLineInput(shipped.tote.pk, 1)],
            text="Scratched",
        )
        actions.close_case(case.pk, by=shipped.owner)
    client = signed_in(client, shipped.owner)
    url = reverse("aftersales:list")
    client.get(url)  # the session's first read of its membership is not the page's

    # Session; the user with their memberships; the live cases, the other cases (each with order and vendor).
    with django_assert_num_queries(4):
        assert client.get(url).status_code == 200
    for _ in range(27):
        (case,) = actions.open_cases(
            shipped.order.pk,
            by=shipped.owner,
            type="other",
            mode="other",
            lines=[CaseLineInput(shipped.tote.pk, 1)],
            text="Scratched",
        )
        actions.close_case(case.pk, by=shipped.owner)
    with django_assert_num_queries(4):
        body = client.get(url).content.decode()
    assert body.count('<li class="case-row') == 30
