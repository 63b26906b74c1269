"""After-sales cases through their domain functions: who may take which step, what each writes."""

import datetime
import itertools
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from orderdesk.accounts.errors import NotAllowed
from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.aftersales import actions
from orderdesk.aftersales.actions import CaseLineInput
from orderdesk.aftersales.errors import CaseNotFound, CaseStatusRefused, InvalidCase
from orderdesk.aftersales.models import CASE_TRANSITIONS, AfterSalesCase, CaseLine
from orderdesk.aftersales.queries import claimable_lines, costs_and_refunds
from orderdesk.fulfillment.actions import ShipmentLine, create_shipment
from orderdesk.fulfillment.models import Fulfillment
from orderdesk.notifications.models import Notification
from orderdesk.orders import actions as order_actions
from orderdesk.orders.models import Order, OrderEvent
from orderdesk.orders.tests.factories import pending_order
from orderdesk.photos.errors import PhotoRefused
from orderdesk.photos.tests.images import jpeg_upload
from orderdesk.vendors.tests.factories import VendorFactory

from .factories import SHIPPING_COST, UNIT_COST, shipped_order, vendor_actor

pytestmark = pytest.mark.django_db

Type, Mode, Status = AfterSalesCase.Type, AfterSalesCase.Mode, AfterSalesCase.Status


def open_case(shipped, *, lines=None, mode=Mode.RESEND, by=None, **extra):
    return actions.open_cases(
        shipped.order.pk,
        by=by or shipped.owner,
        type=extra.pop("type", Type.PRODUCT_BROKEN),
        mode=mode,
        lines=lines if lines is not None else [CaseLineInput(shipped.shirt.pk, 1)],
        text=extra.pop("text", "The shirt arrived torn at the collar."),
        **extra,
    )


def test_a_case_goes_to_the_vendor_of_its_lines_and_one_per_shipper():
    shipped = shipped_order()

    cases = open_case(
        shipped,
        lines=[CaseLineInput(shipped.shirt.pk, 2), CaseLineInput(shipped.tote.pk, 1)],
        mode=Mode.REFUND,
        photos=[jpeg_upload()],
    )

    assert [case.vendor_id for case in cases] == [shipped.vendor.pk, None]
    vendor_case, own_case = cases
    assert [(line.order_line_id, line.quantity) for line in vendor_case.lines.all()] == [
        (shipped.shirt.pk, 2)
    ]
    assert [(line.order_line_id, line.quantity) for line in own_case.lines.all()] == [(shipped.tote.pk, 1)]
    # The vendor is asked to credit what it charged for the two shirts; the merchant's own case asks nothing.
    assert vendor_case.requested_credit == 2 * (UNIT_COST + SHIPPING_COST)
    assert own_case.requested_credit is None
    assert vendor_case.photos.count() == own_case.photos.count() == 1
    opened = shipped.order.events.filter(kind=OrderEvent.Kind.AFTER_SALES_OPENED)
    assert sorted(event.data["case_id"] for event in opened) == sorted(case.pk for case in cases)
    # Only the vendor's case emails someone: the vendor.
    sent = Notification.objects.filter(topic="after_sales.opened")
    assert [(n.audience, n.recipient) for n in sent] == [("vendor", shipped.vendor.contact_email)]


def test_a_case_cannot_claim_more_than_was_shipped_and_nothing_is_written():
    shipped = shipped_order()

    with pytest.raises(InvalidCase) as refusal:
        open_case(shipped, lines=[CaseLineInput(shipped.shirt.pk, 3)])

    assert refusal.value.field == "lines"
    assert (
        refusal.value.message
        == "Linen shirt: 3 cannot be claimed; 2 were shipped and 0 are in earlier cases."
    )
    assert not AfterSalesCase.objects.exists()
    assert not shipped.order.events.filter(kind=OrderEvent.Kind.AFTER_SALES_OPENED).exists()


def test_units_not_yet_handed_to_a_courier_cannot_be_claimed():
    shipped = shipped_order(vendor_in_transit=False)

    with pytest.raises(InvalidCase, match="0 were shipped"):
        open_case(shipped)
    assert not AfterSalesCase.objects.exists()


def test_earlier_cases_hold_their_units_and_a_rejected_one_frees_them():
    shipped = shipped_order()
    (first,) = open_case(shipped, lines=[CaseLineInput(shipped.shirt.pk, 2)])

    with pytest.raises(InvalidCase, match="2 were shipped and 2 are in earlier cases"):
        open_case(shipped, lines=[CaseLineInput(shipped.shirt.pk, 1)])

    actions.reject_case(first.pk, by=shipped.vendor_user, reason="Photos show no damage.")
    (second,) = open_case(shipped, lines=[CaseLineInput(shipped.shirt.pk, 2)])
    assert second.lines.get().quantity == 2


def test_a_case_closed_after_its_resend_keeps_its_units():
    shipped = shipped_order()
    (case,) = open_case(shipped, lines=[CaseLineInput(shipped.shirt.pk, 2)])
    actions.accept_case(case.pk, by=shipped.vendor_user)
    actions.close_case(case.pk, by=shipped.owner)

    assert claimable_lines(shipped.order)[0].claimable == 0


def test_accepting_a_resend_makes_a_new_shipment_by_the_vendor_outside_the_orders_own():
    shipped = shipped_order()
    (case,) = open_case(shipped, lines=[CaseLineInput(shipped.shirt.pk, 1)])

    accepted = actions.accept_case(case.pk, by=shipped.vendor_user, resend_cost="80.00")

    resend = accepted.resend_shipment
    assert resend.is_resend and resend.vendor_id == shipped.vendor.pk
    assert resend.status == Fulfillment.ShippingStatus.PENDING
    assert [(entry.order_line_id, entry.quantity, entry.unit_cost) for entry in resend.lines.all()] == [
        (shipped.shirt.pk, 1, Decimal("0.00"))
    ]
    assert accepted.resend_cost == Decimal("80.00")
    assert accepted.status == Status.ACCEPTED
    # The order stays as it was; the resend is not counted as more of the order shipped.
    order = Order.objects.get(pk=shipped.order.pk)
    assert order.status == Order.Status.DISPATCHED
    assert claimable_lines(order)[0].shipped == 2
    assert Notification.objects.filter(topic="after_sales.answered", audience="merchant").count() == 1
    assert shipped.order.events.filter(kind=OrderEvent.Kind.AFTER_SALES_ACCEPTED).count() == 1


def test_a_vendor_credit_is_at_most_what_was_asked():
    shipped = shipped_order()
    (case,) = open_case(shipped, mode=Mode.PARTIAL_REFUND)

    with pytest.raises(InvalidCase) as refusal:
        actions.accept_case(case.pk, by=shipped.vendor_user, vendor_credit="350.01")
    assert refusal.value.field == "vendor_credit"
    case.refresh_from_db()
    assert case.status == Status.OPEN and case.vendor_credit is None

    actions.accept_case(case.pk, by=shipped.vendor_user, vendor_credit="100.00")
    case.refresh_from_db()
    assert case.vendor_credit == Decimal("100.00")


def test_refunds_never_exceed_what_was_paid_less_earlier_refunds():
    shipped = shipped_order()
    total = shipped.order.total  # 2,068.50
    vendor_case, own_case = open_case(
        shipped,
        lines=[CaseLineInput(shipped.shirt.pk, 2), CaseLineInput(shipped.tote.pk, 1)],
        mode=Mode.REFUND,
    )
    actions.accept_case(vendor_case.pk, by=shipped.vendor_user)
    actions.accept_case(own_case.pk, by=shipped.owner)
    actions.record_refund(vendor_case.pk, by=shipped.owner, amount="2000.00")

    with pytest.raises(InvalidCase) as refusal:
        actions.record_refund(own_case.pk, by=shipped.owner, amount="68.51")
    assert refusal.value.field == "amount"
    assert "At most PHP 68.50 can be refunded" in refusal.value.message
    own_case.refresh_from_db()
    assert own_case.customer_refund is None

    actions.record_refund(own_case.pk, by=shipped.owner, amount="68.50")
    money = costs_and_refunds([shipped.order.pk])[shipped.order.pk]
    assert money.customer_refunds == total
    assert money.vendor_credits == 2 * (UNIT_COST + SHIPPING_COST)
    with pytest.raises(CaseStatusRefused, match="already has its refund"):
        actions.record_refund(own_case.pk, by=shipped.owner, amount="1.00")


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "1.001", "99999999999"])
def test_a_refund_that_is_not_a_positive_amount_is_refused(amount):
    shipped = shipped_order()
    (case,) = open_case(shipped, mode=Mode.REFUND)
    actions.accept_case(case.pk, by=shipped.vendor_user)
    with pytest.raises(InvalidCase):
        actions.record_refund(case.pk, by=shipped.owner, amount=amount)


def test_costs_and_refunds_add_up_resends_refunds_and_credits_per_order():
    shipped = shipped_order()
    resend_case, own_case = open_case(
        shipped, lines=[CaseLineInput(shipped.shirt.pk, 1), CaseLineInput(shipped.tote.pk, 1)]
    )
    actions.accept_case(resend_case.pk, by=shipped.vendor_user, resend_cost="45.00")
    other = shipped_order(shipped.owner, vendor=shipped.vendor)

    money = costs_and_refunds([shipped.order.pk, other.order.pk])

    assert list(money) == [shipped.order.pk]
    assert money[shipped.order.pk].resend_costs == Decimal("45.00")
    assert money[shipped.order.pk].cases == 2 and money[shipped.order.pk].open_cases == 2
    assert money[shipped.order.pk].net_cost == Decimal("45.00")


@pytest.mark.parametrize(("start", "to"), list(itertools.product(Status.values, Status.values)))
def test_every_pair_of_case_statuses_follows_the_table(start, to):
    shipped = shipped_order()
    (case,) = open_case(shipped, mode=Mode.OTHER)
    # Bring the case to `start` along the allowed road.
    road = {
        Status.OPEN: [],
        Status.ACCEPTED: ["accepted"],
        Status.REJECTED: ["rejected"],
        Status.RESOLVED: ["accepted", "resolved"],
        Status.CLOSED: ["closed"],
    }[start]
    steps = {
        "accepted": lambda: actions.accept_case(case.pk, by=shipped.vendor_user),
        "rejected": lambda: actions.reject_case(case.pk, by=shipped.vendor_user, reason="No."),
        "resolved": lambda: actions.resolve_case(case.pk, by=shipped.owner),
        "closed": lambda: actions.close_case(case.pk, by=shipped.owner),
        "open": None,
    }
    for step in road:
        steps[step]()
    if steps[to] is None:
        return
    if to in CASE_TRANSITIONS[start]:
        assert steps[to]().status == to
    else:
        with pytest.raises(CaseStatusRefused):
            steps[to]()
        assert AfterSalesCase.objects.get(pk=case.pk).status == start


def test_only_the_cases_vendor_answers_it():
    shipped = shipped_order()
    (case,) = open_case(shipped)
    other_vendor = VendorFactory(merchant=shipped.owner.merchant)

    # Another vendor of the same merchant does not even see it.
    with pytest.raises(CaseNotFound):
        actions.accept_case(case.pk, by=vendor_actor(other_vendor))
    # The merchant does not answer for its vendor.
    with pytest.raises(CaseStatusRefused, match="answered by"):
        actions.accept_case(case.pk, by=shipped.owner)
    case.refresh_from_db()
    assert case.status == Status.OPEN


def test_a_vendor_user_cannot_open_resolve_close_or_refund():
    shipped = shipped_order()
    (case,) = open_case(shipped, mode=Mode.REFUND)
    with pytest.raises(NotAllowed):
        open_case(shipped, by=shipped.vendor_user)
    for step in (
        lambda: actions.resolve_case(case.pk, by=shipped.vendor_user),
        lambda: actions.close_case(case.pk, by=shipped.vendor_user),
        lambda: actions.record_refund(case.pk, by=shipped.vendor_user, amount="10"),
    ):
        with pytest.raises(NotAllowed):
            step()


def test_another_merchants_case_and_order_do_not_exist():
    shipped = shipped_order()
    (case,) = open_case(shipped)
    stranger = owner_actor()

    with pytest.raises(CaseNotFound):
        actions.close_case(case.pk, by=stranger)
    with pytest.raises(CaseNotFound):
        actions.add_case_message(case.pk, by=stranger, text="Hello")
    with pytest.raises(Exception, match="That order does not exist"):
        open_case(shipped, by=stranger)


def test_the_thread_carries_both_sides_and_emails_the_other_side():
    shipped = shipped_order()
    (case,) = open_case(shipped)

    actions.add_case_message(case.pk, by=shipped.vendor_user, text="Send us a photo of the label?")
    actions.add_case_message(case.pk, by=shipped.owner, text="Here it is.", photos=[jpeg_upload("label.jpg")])

    thread = list(case.messages.all())
    assert [(m.by_vendor, m.text, m.photos.count()) for m in thread] == [
        (True, "Send us a photo of the label?", 0),
        (False, "Here it is.", 1),
    ]
    topics = list(Notification.objects.order_by("pk").values_list("topic", "audience"))
    assert ("after_sales.answered", "merchant") in topics
    assert ("after_sales.to_vendor", "vendor") in topics
    assert shipped.order.events.filter(kind=OrderEvent.Kind.AFTER_SALES_MESSAGE).count() == 2


def test_a_refused_photo_leaves_no_case_and_no_file(media_in_tmp):
    shipped = shipped_order()
    with pytest.raises(PhotoRefused):
        open_case(shipped, photos=[jpeg_upload(), SimpleUploadedFile("x.svg", b"<svg/>", "image/svg+xml")])
    assert not AfterSalesCase.objects.exists()
    assert not CaseLine.objects.exists()
    assert not list(media_in_tmp.rglob("*.jpg"))


def test_resolving_tells_the_customer_only_when_ticked():
    shipped = shipped_order()
    first, second = open_case(
        shipped, lines=[CaseLineInput(shipped.shirt.pk, 1), CaseLineInput(shipped.tote.pk, 1)]
    )
    actions.accept_case(first.pk, by=shipped.vendor_user)
    actions.accept_case(second.pk, by=shipped.owner)

    actions.resolve_case(first.pk, by=shipped.owner, tell_customer=True)
    actions.resolve_case(second.pk, by=shipped.owner)

    told = Notification.objects.filter(topic="after_sales.resolved")
    assert sorted((n.channel, n.recipient, n.about_id) for n in told) == [
        ("email", "maria@example.com", str(first.pk)),
        ("sms", "+639175550101", str(first.pk)),
    ]
    first.refresh_from_db()
    assert first.customer_told


@pytest.mark.parametrize(
    ("field", "kwargs", "message"),
    [
        ("type", {"type": "lost"}, "Choose the after-sales type."),
        ("mode", {"mode": ""}, "Choose the after-sales mode."),
        ("lines", {"lines": []}, "Choose at least one product and how many."),
        ("text", {"text": "   "}, "Say what happened: the words that prove the problem."),
        ("text", {"text": "x" * 2001}, "Write at most 2,000 characters."),
    ],
)
def test_each_refusal_of_a_new_case_names_its_field(field, kwargs, message):
    shipped = shipped_order()
    with pytest.raises(InvalidCase) as refusal:
        open_case(shipped, **kwargs)
    assert (refusal.value.field, refusal.value.message) == (field, message)
    assert not AfterSalesCase.objects.exists()


def test_a_line_shipped_partly_by_a_vendor_and_partly_by_the_merchant_makes_a_case_for_each():
    owner = owner_actor()
    vendor = VendorFactory(merchant=owner.merchant)
    order = pending_order(owner)
    shirt = order.lines.order_by("pk").first()
    shipment = create_shipment(order.pk, by=owner, vendor_id=vendor.pk, lines=[ShipmentLine(shirt.pk, 1)])
    order_actions.move_order_shipment(shipment.pk, by=owner, to="in_transit", delivery_reference="V-1")
    order_actions.ship_order_lines(
        order.pk, by=owner, lines=[ShipmentLine(shirt.pk, 1)], status="in_transit", delivery_reference="M-1"
    )

    cases = actions.open_cases(
        order.pk,
        by=owner,
        type="missing_item",
        mode="resend",
        lines=[CaseLineInput(shirt.pk, 2)],
        text="Gone",
    )

    assert [(case.vendor_id, case.lines.get().quantity) for case in cases] == [(vendor.pk, 1), (None, 1)]


def test_a_resend_on_a_partly_dispatched_order_neither_dispatches_it_nor_takes_units_left_to_ship():
    shipped = shipped_order(vendor_in_transit=False)
    vendor_shipment = shipped.order.fulfillments.get()
    order_actions.move_order_shipment(
        vendor_shipment.pk, by=shipped.owner, to="in_transit", delivery_reference="V-9"
    )
    (case,) = open_case(shipped, lines=[CaseLineInput(shipped.shirt.pk, 2)])
    resend = actions.accept_case(case.pk, by=shipped.vendor_user).resend_shipment

    order_actions.move_order_shipment(
        resend.pk, by=shipped.vendor_user, to="in_transit", delivery_reference="R-9"
    )

    order = Order.objects.get(pk=shipped.order.pk)
    assert order.status == Order.Status.PENDING  # the tote has not left yet
    dispatched = order_actions.dispatch_order(
        order.pk,
        by=shipped.owner,
        delivery_reference="JT-9",
        expected_on=timezone.localdate(timezone=shipped.owner.merchant.zone) + datetime.timedelta(days=1),
    )
    assert dispatched.status == Order.Status.DISPATCHED
    merchants = Fulfillment.objects.get(order=order, delivery_reference="JT-9")
    assert [(entry.order_line_id, entry.quantity) for entry in merchants.lines.all()] == [
        (shipped.tote.pk, 1)
    ]
