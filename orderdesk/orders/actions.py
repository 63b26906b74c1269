"""The write side of orders: one function per business action.

Each runs in one transaction with the order row locked, checks the move against
ORDER_TRANSITIONS, writes a timeline event and queues notifications. Nothing
else changes an order's status.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.models import Merchant
from orderdesk.accounts.permissions import Permission, ensure_can
from orderdesk.catalog.models import Variant
from orderdesk.customers.models import Customer
from orderdesk.customers.phones import normalize_phone
from orderdesk.fulfillment import actions as fulfillment_actions
from orderdesk.photos.actions import delete_photo_files, prepare_photos, store_photos
from orderdesk.stores.models import Store

from . import events
from .counts import count_status_change
from .errors import DuplicateOrder, InvalidOrder, OrderNotFound, TransitionRefused
from .messages import queue_order_notifications
from .models import ORDER_TRANSITIONS, Order, OrderEvent, OrderLine

CENT = Decimal("0.01")
MAX_REFERENCE_LENGTH = 100
MAX_MESSAGE_LENGTH = 1000
MAX_REASON_LENGTH = 1000


@dataclass(frozen=True)
class CustomerDetails:
    name: str
    phone: str = ""
    email: str = ""
    address: str = ""


@dataclass(frozen=True)
class LineInput:
    title: str
    quantity: int
    unit_price: Decimal | str
    sku: str = ""
    variant_title: str = ""
    variant_id: int | None = None


@dataclass(frozen=True)
class NewOrder:
    """What is needed to record an order, from a form, the API or a store import."""

    customer: CustomerDetails
    lines: Sequence[LineInput]
    payment_method: str
    shipping_option: str = ""
    shipping_fee: Decimal | str = Decimal("0")
    discount: Decimal | str = Decimal("0")
    processing_days: int | None = None
    note: str = ""
    store_id: int | None = None
    external_id: str | None = None
    reference: str | None = None
    placed_at: datetime.datetime | None = None
    extra: dict = field(default_factory=dict)


def record_order(new: NewOrder, *, by: Actor, payment_confirmed: bool = False) -> Order:
    """Record a new order: awaiting payment, or Pending at once when its payment is
    already confirmed (paid in the store, or cash on delivery the merchant confirmed).

    Raises InvalidOrder for bad details and DuplicateOrder for a store order already recorded.
    """
    ensure_can(by, Permission.RECORD_ORDERS)
    merchant = by.merchant
    customer = _checked_customer(new.customer)
    lines = [_checked_line(index, line) for index, line in enumerate(new.lines, start=1)]
    if not lines:
        raise InvalidOrder("An order needs at least one item.", field="lines")
    if new.payment_method not in Order.PaymentMethod.values:
        raise InvalidOrder(f"“{new.payment_method}” is not a payment method we know.", field="payment_method")
    shipping_fee = _money(new.shipping_fee, "shipping fee", "shipping_fee")
    discount = _money(new.discount, "discount", "discount")
    subtotal = sum((line.unit_price * line.quantity for line in lines), Decimal("0"))
    total = subtotal + shipping_fee - discount
    if total < 0:
        raise InvalidOrder("The discount is larger than the order's value.", field="discount")
    processing_days = merchant.default_processing_days if new.processing_days is None else new.processing_days
    if not 0 <= processing_days <= 365:
        raise InvalidOrder("Processing days must be between 0 and 365.", field="processing_days")
    external_id = (new.external_id or "").strip() or None
    reference = (new.reference or "").strip() or None
    if reference and len(reference) > 40:
        raise InvalidOrder("An order reference has at most 40 characters.", field="reference")

    # The merchant row lock serializes recording per merchant, so the duplicate checks
    # below cannot race with another import of the same store order.
    with transaction.atomic():
        # The merchant row is the lock that hands out order numbers one at a time.
        merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
        store = _store_for(merchant, new.store_id)
        _ensure_variants_belong_to(merchant, lines)
        if external_id:
            existing = (
                Order.objects.filter(store=store, external_id=external_id)
                .values_list("pk", flat=True)
                .first()
            )
            if existing:
                raise DuplicateOrder(
                    f"Order {external_id} from {store.name} is already recorded.",
                    existing_order_id=existing,
                )
        if reference is None:
            merchant.last_order_number += 1
            merchant.save(update_fields=["last_order_number"])
            reference = f"{merchant.order_reference_prefix}-{merchant.last_order_number}"
        elif Order.objects.for_merchant(merchant).filter(reference=reference).exists():
            raise DuplicateOrder(f"Order reference {reference} is already taken.", field="reference")

        order = Order.objects.create(
            merchant=merchant,
            store=store,
            customer=_customer_for(merchant, customer),
            external_id=external_id,
            reference=reference,
            customer_name=customer.name,
            customer_phone=customer.phone,
            customer_email=customer.email,
            shipping_address=customer.address,
            currency=merchant.currency,
            subtotal=subtotal,
            shipping_fee=shipping_fee,
            discount=discount,
            total=total,
            payment_method=new.payment_method,
            shipping_option=new.shipping_option.strip()[:100],
            processing_days=processing_days,
            note=new.note,
            placed_at=new.placed_at or timezone.now(),
        )
        count_status_change(merchant.pk, before=None, after=order.status)
        OrderLine.objects.bulk_create(
            OrderLine(
                merchant=merchant,
                order=order,
                variant_id=line.variant_id,
                sku=line.sku,
                title=line.title,
                variant_title=line.variant_title,
                quantity=line.quantity,
                unit_price=line.unit_price,
            )
            for line in lines
        )
        events.record_order_placed(order, by=by)
        if payment_confirmed:
            _enter_order_tracking(order, by=by)
    return order


def verify_payment(order_id: int, *, by: Actor) -> Order:
    """Mark the payment verified (or cash on delivery confirmed): Awaiting payment → Pending.

    Sets the due date from the processing days and queues the merchant's notifications.
    Raises OrderNotFound, TransitionRefused.
    """
    ensure_can(by, Permission.VERIFY_PAYMENTS)
    with transaction.atomic():
        order = _locked_order(order_id, by)
        _ensure_transition(order, Order.Status.PENDING, action="verify the payment of")
        _enter_order_tracking(order, by=by)
    return order


def dispatch_order(
    order_id: int,
    *,
    by: Actor,
    delivery_reference: str,
    expected_on: datetime.date | None,
    photos: Sequence = (),
    message: str = "",
) -> Order:
    """Hand the order to the courier the customer chose: Pending → Dispatched.

    Records the merchant's shipment of every line with the delivery reference,
    expected date, photos and message; the customer is notified after commit.
    Raises InvalidOrder (missing reference, past date, long message), PhotoRefused,
    OrderNotFound, TransitionRefused.
    """
    ensure_can(by, Permission.DISPATCH_ORDERS)
    # The order's state first: "already dispatched" says more than a complaint about the date.
    _ensure_transition(_current_order(order_id, by), Order.Status.DISPATCHED, action="dispatch")
    delivery_reference = (delivery_reference or "").strip()
    message = (message or "").strip()
    if not delivery_reference:
        raise InvalidOrder("Enter the courier's delivery reference number.", field="delivery_reference")
    if len(delivery_reference) > MAX_REFERENCE_LENGTH:
        raise InvalidOrder(
            f"A delivery reference has at most {MAX_REFERENCE_LENGTH} characters.",
            field="delivery_reference",
        )
    if expected_on is None:
        raise InvalidOrder("Enter the date the customer should receive the order.", field="expected_on")
    today = timezone.localdate(timezone=by.merchant.zone)
    if expected_on < today:
        raise InvalidOrder(
            f"The expected delivery date cannot be in the past (today is {today:%b %-d, %Y}).",
            field="expected_on",
        )
    if len(message) > MAX_MESSAGE_LENGTH:
        raise InvalidOrder(f"The message has at most {MAX_MESSAGE_LENGTH} characters.", field="message")
    # Every photo is decoded and re-encoded before anything is written.
    prepared = prepare_photos(photos)

    stored_photos = []
    try:
        with transaction.atomic():
            order = _locked_order(order_id, by)
            _ensure_transition(order, Order.Status.DISPATCHED, action="dispatch")
            status_before = order.status
            stored_photos = store_photos(prepared, merchant=order.merchant, uploaded_by=by.user)
            shipment = fulfillment_actions.ship_all_lines_by_merchant(
                order,
                by=by,
                carrier=order.shipping_option,
                delivery_reference=delivery_reference,
                expected_on=expected_on,
                message=message,
                photos=stored_photos,
            )
            _move(order, Order.Status.DISPATCHED)
            order.dispatched_at = timezone.now()
            order.save(update_fields=["status", "dispatched_at", "updated_at"])
            events.record_order_dispatched(order, by=by, status_before=status_before, shipment=shipment)
            _queue_notifications(order, OrderEvent.Kind.DISPATCHED, by=by)
    except BaseException:
        delete_photo_files(stored_photos)
        raise
    return order


def fulfill_order(order_id: int, *, by: Actor, remarks: str = "") -> Order:
    """Mark a delivered order fulfilled, with optional remarks: Dispatched → Fulfilled.

    The merchant's shipments still on their way are marked delivered.
    Raises OrderNotFound, TransitionRefused, InvalidOrder (remarks too long).
    """
    ensure_can(by, Permission.FULFILL_ORDERS)
    _ensure_transition(_current_order(order_id, by), Order.Status.FULFILLED, action="fulfill")
    remarks = (remarks or "").strip()
    if len(remarks) > MAX_MESSAGE_LENGTH:
        raise InvalidOrder(f"Remarks have at most {MAX_MESSAGE_LENGTH} characters.", field="remarks")
    with transaction.atomic():
        order = _locked_order(order_id, by)
        _ensure_transition(order, Order.Status.FULFILLED, action="fulfill")
        status_before = order.status
        fulfillment_actions.mark_merchant_shipments_delivered(order, by=by)
        _move(order, Order.Status.FULFILLED)
        order.fulfilled_at = timezone.now()
        order.fulfill_remarks = remarks
        order.save(update_fields=["status", "fulfilled_at", "fulfill_remarks", "updated_at"])
        events.record_order_fulfilled(order, by=by, status_before=status_before)
        _queue_notifications(order, OrderEvent.Kind.FULFILLED, by=by)
    return order


def cancel_order(order_id: int, *, by: Actor, reason: str) -> Order:
    """Cancel an order with a reason: Pending or Dispatched → Cancelled.

    Shipments already on their way are flagged Exception, so nobody reads them as
    still going to the customer. Raises InvalidOrder (no reason), OrderNotFound,
    TransitionRefused.
    """
    ensure_can(by, Permission.CANCEL_ORDERS)
    _ensure_transition(_current_order(order_id, by), Order.Status.CANCELLED, action="cancel")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidOrder("Say why the order is cancelled.", field="reason")
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidOrder(f"The reason has at most {MAX_REASON_LENGTH} characters.", field="reason")
    with transaction.atomic():
        order = _locked_order(order_id, by)
        _ensure_transition(order, Order.Status.CANCELLED, action="cancel")
        status_before = order.status
        fulfillment_actions.flag_shipments_of_cancelled_order(order, reason=reason)
        _move(order, Order.Status.CANCELLED)
        order.cancelled_at = timezone.now()
        order.cancel_reason = reason
        order.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
        events.record_order_cancelled(order, by=by, status_before=status_before)
        _queue_notifications(order, OrderEvent.Kind.CANCELLED, by=by)
    return order


# --- the pieces the actions share -------------------------------------------------


def _current_order(order_id, by: Actor) -> Order:
    """The order as it is now, unlocked: for refusing early; the action re-checks under the lock."""
    try:
        return Order.objects.for_merchant(by.merchant).get(pk=order_id)
    except (Order.DoesNotExist, ValueError, TypeError) as missing:
        raise OrderNotFound() from missing


def _locked_order(order_id, by: Actor) -> Order:
    try:
        return (
            Order.objects.for_merchant(by.merchant)
            .select_for_update()
            .select_related("merchant", "store")
            .get(pk=order_id)
        )
    except (Order.DoesNotExist, ValueError, TypeError) as missing:
        raise OrderNotFound() from missing


_DONE_ALREADY = {
    Order.Status.PENDING: "is already pending",
    Order.Status.DISPATCHED: "was already dispatched",
    Order.Status.FULFILLED: "was already fulfilled",
    Order.Status.CANCELLED: "was cancelled",
    Order.Status.AWAITING_PAYMENT: "is still awaiting payment",
}


def _ensure_transition(order: Order, to: str, *, action: str) -> None:
    if to in ORDER_TRANSITIONS[order.status]:
        return
    raise TransitionRefused(
        f"Order {order.reference} {_DONE_ALREADY[order.status]}, so you cannot {action} it."
    )


def _enter_order_tracking(order: Order, *, by: Actor) -> None:
    status_before = order.status
    now = timezone.now()
    _move(order, Order.Status.PENDING)
    order.payment_status = (
        Order.PaymentStatus.COD_CONFIRMED
        if order.payment_method == Order.PaymentMethod.CASH_ON_DELIVERY
        else Order.PaymentStatus.PAID
    )
    order.payment_verified_at = now
    order.due_on = timezone.localdate(now, timezone=order.merchant.zone) + datetime.timedelta(
        days=order.processing_days
    )
    order.save(update_fields=["status", "payment_status", "payment_verified_at", "due_on", "updated_at"])
    event = events.record_payment_verified(order, by=by, status_before=status_before)
    _queue_notifications(order, event.kind, by=by)


def _move(order: Order, to: str) -> None:
    """Set the new status and keep the tab counts in step (inside the action's transaction)."""
    count_status_change(order.merchant_id, before=order.status, after=to)
    order.status = to


def _queue_notifications(order: Order, trigger: str, *, by: Actor, shipment=None) -> None:
    queued = queue_order_notifications(order, trigger, shipment=shipment)
    if queued:
        events.record_notifications_queued(order, by=by, notifications=queued)


def _ensure_variants_belong_to(merchant: Merchant, lines: Sequence[LineInput]) -> None:
    wanted = {line.variant_id for line in lines if line.variant_id is not None}
    if not wanted:
        return
    found = set(Variant.objects.for_merchant(merchant).filter(pk__in=wanted).values_list("pk", flat=True))
    for position, line in enumerate(lines, start=1):
        if line.variant_id is not None and line.variant_id not in found:
            raise InvalidOrder(
                f"Item {position} ({line.title}): that product variant does not exist.", field="lines"
            )


def _store_for(merchant: Merchant, store_id: int | None) -> Store:
    if store_id is None:
        store, _ = Store.objects.get_or_create(
            merchant=merchant, name="Manual orders", defaults={"channel": Store.Channel.MANUAL}
        )
        return store
    try:
        return Store.objects.for_merchant(merchant).get(pk=store_id)
    except Store.DoesNotExist as missing:
        raise InvalidOrder("That store does not exist.", field="store") from missing


def _customer_for(merchant: Merchant, details: CustomerDetails) -> Customer:
    """The merchant's customer with this phone (or else email), created when new."""
    known = Customer.objects.for_merchant(merchant)
    found = None
    if details.phone:
        found = known.filter(phone=details.phone).order_by("pk").first()
    if found is None and details.email:
        found = known.filter(email=details.email).order_by("pk").first()
    if found is None:
        found = Customer.objects.create(
            merchant=merchant,
            name=details.name,
            phone=details.phone,
            email=details.email,
            address=details.address,
        )
    return found


def _checked_customer(customer: CustomerDetails) -> CustomerDetails:
    name = (customer.name or "").strip()
    if not name:
        raise InvalidOrder("Enter the customer's name.", field="customer_name")
    phone = ""
    if (customer.phone or "").strip():
        try:
            phone = normalize_phone(customer.phone)
        except ValueError as refusal:
            raise InvalidOrder(str(refusal), field="customer_phone") from refusal
    email = (customer.email or "").strip().lower()
    if email:
        try:
            validate_email(email)
        except ValidationError as refusal:
            raise InvalidOrder(f"“{email}” is not an email address.", field="customer_email") from refusal
    return CustomerDetails(
        name=name[:200], phone=phone, email=email, address=(customer.address or "").strip()
    )


def _checked_line(position: int, line: LineInput) -> LineInput:
    title = (line.title or "").strip()
    if not title:
        raise InvalidOrder(f"Item {position} needs a title.", field="lines")
    if not isinstance(line.quantity, int) or isinstance(line.quantity, bool) or line.quantity < 1:
        raise InvalidOrder(f"Item {position} ({title}) needs a quantity of at least 1.", field="lines")
    unit_price = _money(line.unit_price, f"price of item {position} ({title})", "lines")
    return LineInput(
        title=title[:255],
        quantity=line.quantity,
        unit_price=unit_price,
        sku=(line.sku or "").strip()[:64],
        variant_title=(line.variant_title or "").strip()[:255],
        variant_id=line.variant_id,
    )


def _money(value, what: str, field_name: str) -> Decimal:
    if isinstance(value, float):
        # Floats cannot hold 0.10 exactly; money must arrive as Decimal or text.
        raise InvalidOrder(f"The {what} must be given as an exact amount, not a float.", field=field_name)
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError) as refusal:
        raise InvalidOrder(f"The {what} “{value}” is not an amount.", field=field_name) from refusal
    if not amount.is_finite() or amount < 0:
        raise InvalidOrder(f"The {what} must be zero or more.", field=field_name)
    if amount != amount.quantize(CENT):
        raise InvalidOrder(f"The {what} has more than two decimal places.", field=field_name)
    if amount >= Decimal("10000000000"):
        raise InvalidOrder(f"The {what} is too large.", field=field_name)
    return amount.quantize(CENT)
