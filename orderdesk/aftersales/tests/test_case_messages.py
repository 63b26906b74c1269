"""After-sales messages through the real outbox to a real SMTP server on loopback: what the
vendor, the merchant and the customer are told, and what a vendor is never told."""

import pytest

from orderdesk.aftersales import actions
from orderdesk.aftersales.actions import CaseLineInput
from orderdesk.notifications.models import Notification
from orderdesk.notifications.tests.fixtures import sms_files
from orderdesk.notifications.tests.peers import parts_of
from orderdesk.orders.actions import move_order_shipment

from .factories import shipped_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("notification_settings")]


def test_the_vendor_is_emailed_the_case_without_the_orders_prices_or_the_customers_contacts(
    smtp, sms_folder, django_capture_on_commit_callbacks
):
    shipped = shipped_order()
    smtp.messages.clear()

    with django_capture_on_commit_callbacks(execute=True):
        (case,) = actions.open_cases(
            shipped.order.pk,
            by=shipped.owner,
            type="product_broken",
            mode="refund",
            lines=[CaseLineInput(shipped.shirt.pk, 2)],
            text="Both shirts torn at the seam.",
        )

    [arrived] = smtp.messages
    assert arrived["To"] == shipped.vendor.contact_email
    assert arrived["Subject"] == (
        f"New after-sales case #{case.pk} from {shipped.owner.merchant.name}: order {shipped.order.reference}"
    )
    text = parts_of(arrived)["text/plain"]
    assert "2 × Linen shirt" in text and "Both shirts torn at the seam." in text
    assert "Credit asked of you: PHP 700.00" in text
    assert f"https://orderdesk.example/aftersales/{case.pk}/" in text
    for secret in ("799", "2,068.50", "1,598", "maria@example.com", "+63917", "Mabini"):
        assert secret not in text


def test_the_merchant_is_emailed_the_vendors_answer(smtp, sms_folder, django_capture_on_commit_callbacks):
    shipped = shipped_order()
    (case,) = actions.open_cases(
        shipped.order.pk,
        by=shipped.owner,
        type="wrong_item",
        mode="resend",
        lines=[CaseLineInput(shipped.shirt.pk, 1)],
        text="Wrong size",
    )
    smtp.messages.clear()

    with django_capture_on_commit_callbacks(execute=True):
        actions.reject_case(case.pk, by=shipped.vendor_user, reason="The size matches the order.")

    [arrived] = smtp.messages
    assert arrived["To"] == shipped.owner.merchant.notification_email
    assert f"after-sales case #{case.pk} on {shipped.order.reference}, rejected" in arrived["Subject"]
    assert "Reason: The size matches the order." in parts_of(arrived)["text/plain"]


def test_the_customer_hears_of_the_resolved_case_with_the_resends_tracking(
    smtp, sms_folder, django_capture_on_commit_callbacks
):
    shipped = shipped_order()
    (case,) = actions.open_cases(
        shipped.order.pk,
        by=shipped.owner,
        type="product_broken",
        mode="resend",
        lines=[CaseLineInput(shipped.shirt.pk, 1)],
        text="Torn",
    )
    actions.accept_case(case.pk, by=shipped.vendor_user)
    case.refresh_from_db()
    move_order_shipment(
        case.resend_shipment_id,
        by=shipped.vendor_user,
        to="in_transit",
        carrier="LBC",
        delivery_reference="R-77",
    )
    smtp.messages.clear()
    before = len(sms_files(sms_folder))

    with django_capture_on_commit_callbacks(execute=True):
        actions.resolve_case(case.pk, by=shipped.owner, tell_customer=True)

    [arrived] = smtp.messages
    assert arrived["To"] == "maria@example.com"
    text = parts_of(arrived)["text/plain"]
    assert "LBC, reference R-77" in text
    assert f"https://orderdesk.example/t/{shipped.order.customer_page_token}/" in text
    [sms] = sms_files(sms_folder)[before:]
    assert "Replacement: LBC ref R-77" in sms.read_text()
    assert Notification.objects.filter(topic="after_sales.resolved", status="sent").count() == 2
