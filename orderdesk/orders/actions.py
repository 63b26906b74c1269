"""The write side of orders: one function per business action.

Each runs the same sequence (`_order_change`): one transaction with the order row locked,
the move checked against ORDER_TRANSITIONS, the change, a timeline event, its
notifications queued. Shipments are changed through orderdesk.fulfillment.actions inside
that transaction, and the order's status follows them by the one rule of orders.shipping.
Nothing else changes an order's status.
"""

from __future__ import annotations

import datetime
import functools
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, transaction
from django.utils import timezone

from orderdesk import rows
from orderdesk.accounts.actors import Actor
from orderdesk.accounts.models import Merchant
from orderdesk.accounts.permissions import Permission, ensure_can
from orderdesk.catalog.actions import SoldItem, variants_for_skus
from orderdesk.catalog.models import Variant
from orderdesk.compiled_queries import fixed_statement_cursor
from orderdesk.customers.models import Customer
from orderdesk.customers.phones import normalize_phone
from orderdesk.errors import DomainError
from orderdesk.fulfillment import actions as fulfillment_actions
from orderdesk.fulfillment.errors import InvalidShipment, ShipmentNotFound
from orderdesk.fulfillment.models import Fulfillment, FulfillmentLine
from orderdesk.fulfillment.queries import one_shipment_for
from orderdesk.notifications.preferences import preferences_for
from orderdesk.notifications.webhooks import publishing_once
from orderdesk.photos.actions import delete_photo_files, prepare_photos, store_photos
from orderdesk.saved_fields import save_fields

from . import batch_reads, events
from .allocation import allocate_many_on_entry, allocate_on_entry
from .counts import count_change_sql, count_status_change, count_status_changes
from .errors import DuplicateOrder, InvalidOrder, OrderNotFound, TransitionRefused
from .handovers import announce_handover
from .inserts import insert, insert_sql_of, insert_values, new_row
from .locked_reads import locked_order_with_merchant_and_store
from .messages import queue_many_order_notifications, queue_order_notifications
from .models import ORDER_TRANSITIONS, Order, OrderEvent, OrderLine
from .shipment_messages import queue_shipment_notifications
from .shipping import ShippingProgress, shipping_progress, status_following_shipments

CENT = Decimal("0.01")
MAX_REFERENCE_LENGTH = fulfillment_actions.MAX_REFERENCE_LENGTH
MAX_MESSAGE_LENGTH = fulfillment_actions.MAX_MESSAGE_LENGTH
MAX_REASON_LENGTH = 1000
# No shop sells more of one item in one order; bigger numbers are typos or attacks.
MAX_LINE_QUANTITY = 100_000
# Money columns hold 12 digits with 2 decimals: every amount, and the total, stays below this.
MONEY_LIMIT = Decimal("10000000000")
MAX_EXTERNAL_ID_LENGTH = 100


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


@dataclass
class _CheckedOrder:
    """A NewOrder whose every detail passed the checks that need no database."""

    new: NewOrder
    customer: CustomerDetails
    lines: list[LineInput]
    shipping_fee: Decimal
    discount: Decimal
    subtotal: Decimal
    total: Decimal
    processing_days: int
    external_id: str | None
    reference: str | None


_PAYMENT_METHODS = frozenset(Order.PaymentMethod.values)


def _checked_order(new: NewOrder, merchant: Merchant) -> _CheckedOrder:
    """Every rule of a new order that needs no database; raises InvalidOrder."""
    customer = _checked_customer(new.customer)
    lines = [_checked_line(index, line) for index, line in enumerate(new.lines, start=1)]
    if not lines:
        raise InvalidOrder("An order needs at least one item.", field="lines")
    if new.payment_method not in _PAYMENT_METHODS:
        raise InvalidOrder(f"“{new.payment_method}” is not a payment method we know.", field="payment_method")
    shipping_fee = _money(new.shipping_fee, "shipping fee", "shipping_fee")
    discount = _money(new.discount, "discount", "discount")
    subtotal = sum((line.unit_price * line.quantity for line in lines), Decimal("0"))
    total = subtotal + shipping_fee - discount
    if total < 0:
        raise InvalidOrder("The discount is larger than the order's value.", field="discount")
    if subtotal >= MONEY_LIMIT or total >= MONEY_LIMIT:
        raise InvalidOrder("The order's total is too large.", field="lines")
    for text, what, field_name in (
        (new.shipping_option, "shipping option", "shipping_option"),
        (new.note, "note", "note"),
        (new.reference or "", "order reference", "reference"),
        (new.external_id or "", "store's order id", "external_id"),
    ):
        _ensure_printable(text, what, field_name)
    processing_days = merchant.default_processing_days if new.processing_days is None else new.processing_days
    if not 0 <= processing_days <= 365:
        raise InvalidOrder("Processing days must be between 0 and 365.", field="processing_days")
    external_id = (new.external_id or "").strip() or None
    reference = (new.reference or "").strip() or None
    if reference and len(reference) > 40:
        raise InvalidOrder("An order reference has at most 40 characters.", field="reference")
    if external_id and len(external_id) > MAX_EXTERNAL_ID_LENGTH:
        raise InvalidOrder(
            f"A store's order id has at most {MAX_EXTERNAL_ID_LENGTH} characters.", field="external_id"
        )
    return _CheckedOrder(
        new=new,
        customer=customer,
        lines=lines,
        shipping_fee=shipping_fee,
        discount=discount,
        subtotal=subtotal,
        total=total,
        processing_days=processing_days,
        external_id=external_id,
        reference=reference,
    )


def record_order(new: NewOrder, *, by: Actor, payment_confirmed: bool = False, notify: bool = True) -> Order:
    """Record a new order: awaiting payment, or Pending at once when its payment is
    already confirmed (paid in the store, or cash on delivery the merchant confirmed).

    `notify=False` queues no merchant messages (a store backfill sends one summary instead).
    Raises InvalidOrder for bad details and DuplicateOrder for a store order already recorded.
    For many orders at once (a backfill, a CSV), record_orders keeps the same rules.
    """
    ensure_can(by, Permission.RECORD_ORDERS)
    checked = _checked_order(new, by.merchant)
    reference = checked.reference
    numbered_last = _numbered_last(checked)

    # The merchant's row lock hands out order numbers one at a time and serializes the making of
    # customers; a refusal rolls its number back with the rest. An order numbered last takes it
    # just before the commit (_number_order); any other takes it first, as the batched path and
    # the store sync do. The order's webhook events and its shipments' are queued together just
    # before the commit.
    with publishing_once():
        merchant, store = _merchant_and_store(
            by.merchant.pk, new.store_id, numbers=None if numbered_last else int(reference is None)
        )
        _ensure_variants_belong_to(merchant, checked.lines)
        customer = None
        if numbered_last:
            reference = _unnumbered_reference()
        else:
            if reference is None:
                reference = f"{merchant.order_reference_prefix}-{merchant.last_order_number}"
            customer = _customer_for(merchant, checked.customer)
        order = _order_row(
            checked,
            merchant=merchant,
            store=store,
            customer=customer,
            reference=reference,
            paid=payment_confirmed,
        )
        # Created in its final status: its tab counter moves once (with its number when numbered last).
        # A store order or reference already recorded is refused by the unique constraints.
        if not _insert_order(order, count=not numbered_last, or_nothing=not numbered_last):
            raise _duplicate_of(checked, store, reference)
        lines = _order_lines(order, checked.lines)
        insert(lines)
        # What was written is what the order's webhook data and the API's answer show.
        _hold_related(order, lines=lines, fulfillments=[])
        queued = None
        if payment_confirmed and notify:
            queued = queue_order_notifications(order, events.payment_verified_kind(order))
        if numbered_last:
            _number_order(order, merchant, checked.customer)
        # Every event and shipment below shows the order's final reference.
        written = [events.order_placed_event(order, by=by, line_count=len(checked.lines))]
        if payment_confirmed:
            written.append(
                events.payment_verified_event(order, by=by, status_before=Order.Status.AWAITING_PAYMENT)
            )
            if queued:
                written.append(events.notifications_queued_event(order, by=by, notifications=queued))
        shipments = []
        if payment_confirmed and merchant.auto_processing and any(line.variant_id for line in checked.lines):
            # Auto-processing (the guide's default): hosted lines go to their vendors at once.
            # Only a line of a catalog variant can be hosted: without one there is nothing to look up.
            shipments = allocate_on_entry(order, by=by, notify=notify, written=written)
        events.write_events(written, orders=[order])
        if shipments:
            # The shipments were written by the allocation: whoever shows them reads them.
            _forget_related(order, "fulfillments")
        else:
            _hold_related(order, events=written)
    return order


def _numbered_last(checked: _CheckedOrder) -> bool:
    """Whether the order takes its number (and the merchant's row lock) just before the commit,
    not first: so that the merchant's writers wait for each other one statement and a commit,
    not a whole recording. PostgreSQL only (SQLite takes one writer at a time whatever the
    order), and only for an order no other can be a duplicate of. An order with a store
    order id or a given reference takes the lock first: the batched path and the store sync hold
    it while they write their orders, and an order written with the same key outside it, then
    waiting for it, would deadlock with them. The invariant both keep: whoever writes an order's
    store id or final reference holds the merchant's row lock, so reads under it see them all."""
    return connection.vendor == "postgresql" and checked.external_id is None and checked.reference is None


def _unnumbered_reference() -> str:
    """The reference an order numbered last holds until it is numbered, in its own transaction:
    unique, so that writers never wait on each other's, and never a reference one can give (those
    are stripped of spaces)."""
    return f" {uuid.uuid4().hex}"


@dataclass
class Recorded:
    """What record_orders did with one order of its batch: the order, or why it was refused."""

    new: NewOrder
    order: Order | None = None
    refusal: DomainError | None = None


def record_orders(
    batch: Sequence[NewOrder],
    *,
    by: Actor,
    payment_confirmed: bool = False,
    notify: bool = True,
    match_skus: bool = False,
) -> list[Recorded]:
    """Record many new orders in one transaction, by the rules of record_order: each order
    is checked as record_order checks it, and a refused one (bad details, a store order
    already recorded, a reference taken, also earlier in the same batch) is returned with
    its reason while the rest are recorded.

    Writes in bulk: customers, orders, lines, events and outbox rows a few INSERTs each;
    order numbers taken from the merchant's counter once under its lock; each tab counter
    moved once; one hand-over to delivery. Returns one Recorded per order, in batch order.

    `match_skus`: a line given without a variant gets the merchant's variant of its SKU,
    created when new (catalog.actions.variants_for_skus), for the orders recorded only.
    """
    ensure_can(by, Permission.RECORD_ORDERS)
    results = [Recorded(new=new) for new in batch]
    if not results:
        return results
    with publishing_once():
        # FOR NO KEY UPDATE, as the UPDATE of its order counter below takes anyway: rows that
        # reference the merchant (a webhook's delivery being stored) are not kept waiting.
        merchant = Merchant.objects.select_for_update(no_key=True).get(pk=by.merchant.pk)
        checked: list[tuple[Recorded, _CheckedOrder]] = []
        for result in results:
            try:
                checked.append((result, _checked_order(result.new, merchant)))
            except DomainError as refusal:
                result.refusal = refusal
        stores = _stores_for(merchant, {c.new.store_id for _, c in checked})
        known_variants = _variants_of(merchant, [line for _, c in checked for line in c.lines])
        # Read under the merchant's lock, these see every store order id and final reference:
        # whoever writes one holds that lock (record_order: see _numbered_last).
        taken_external = batch_reads.recorded_external_ids(
            {
                (stores[c.new.store_id].pk, c.external_id)
                for _, c in checked
                if c.external_id and c.new.store_id in stores
            }
        )
        taken_references = set(
            Order.objects.for_merchant(merchant)
            .filter(reference__in=[c.reference for _, c in checked if c.reference])
            .values_list("reference", flat=True)
        )
        accepted: list[tuple[Recorded, _CheckedOrder]] = []
        for result, order in checked:
            try:
                _ensure_acceptable(order, stores, known_variants, taken_external, taken_references)
            except DomainError as refusal:
                result.refusal = refusal
                continue
            accepted.append((result, order))
        if not accepted:
            return results
        if match_skus:
            _match_skus(merchant, [order for _, order in accepted])

        numbered = sum(1 for _, c in accepted if c.reference is None)
        first_number = merchant.last_order_number + 1
        if numbered:
            merchant.last_order_number += numbered
            merchant.save(update_fields=["last_order_number"])
        customers = _customers_for(merchant, [c.customer for _, c in accepted])
        orders = []
        for (result, order), customer in zip(accepted, customers, strict=True):
            reference = order.reference
            if reference is None:
                reference = f"{merchant.order_reference_prefix}-{first_number}"
                first_number += 1
            result.order = _order_row(
                order,
                merchant=merchant,
                store=stores[order.new.store_id],
                customer=customer,
                reference=reference,
                paid=payment_confirmed,
            )
            orders.append(result.order)
        insert(orders, bulk=True)
        changes: dict[str, int] = {}
        for order in orders:
            changes[order.status] = changes.get(order.status, 0) + 1
        count_status_changes(merchant.pk, changes)
        insert_values(
            OrderLine,
            _LINE_COLUMNS,
            [
                line
                for (_, checked_order), order in zip(accepted, orders, strict=True)
                for line in _line_rows(order, checked_order.lines)
            ],
            bulk=True,
        )
        written = []
        paid_events = []
        for (_, checked_order), order in zip(accepted, orders, strict=True):
            written.append(events.order_placed_event(order, by=by, line_count=len(checked_order.lines)))
            if payment_confirmed:
                paid = events.payment_verified_event(
                    order, by=by, status_before=Order.Status.AWAITING_PAYMENT
                )
                written.append(paid)
                paid_events.append((order, paid.kind))
        if notify and paid_events:
            preferences = preferences_for(merchant)
            queued = queue_many_order_notifications(paid_events, preferences=preferences)
            for order, _ in paid_events:
                if queued.get(order.pk):
                    written.append(
                        events.notifications_queued_event(order, by=by, notifications=queued[order.pk])
                    )
        if payment_confirmed and merchant.auto_processing:
            # Auto-processing: one hosting lookup for the batch, each vendor told once of it.
            allocate_many_on_entry(orders, by=by, notify=notify, written=written)
        events.write_events(written, bulk=True)
    return results


def _match_skus(merchant: Merchant, orders: Sequence[_CheckedOrder]) -> None:
    unmatched = [line for order in orders for line in order.lines if line.sku and line.variant_id is None]
    if not unmatched:
        return
    # Most SKUs of a batch are known: found in one read; only new ones go to the catalog to be made.
    found = batch_reads.variant_ids_by_sku(merchant.pk, {line.sku for line in unmatched})
    new_skus = [line for line in unmatched if line.sku not in found]
    if new_skus:
        found |= variants_for_skus(
            merchant,
            [
                SoldItem(
                    sku=line.sku,
                    title=line.title,
                    variant_title=line.variant_title,
                    unit_price=line.unit_price,
                )
                for line in new_skus
            ],
        )
    for order in orders:
        order.lines = [
            LineInput(
                line.title, line.quantity, line.unit_price, line.sku, line.variant_title, found.get(line.sku)
            )
            if line.sku and line.variant_id is None
            else line
            for line in order.lines
        ]


def _order_row(
    checked: _CheckedOrder,
    *,
    merchant: Merchant,
    store,
    customer: Customer | None,
    reference: str,
    paid: bool,
) -> Order:
    """The new order's row, unsaved: awaiting payment, or Pending and paid when `paid`. Its
    merchant, store and customer are the instances given (events and messages read them); an
    order numbered last gets its customer with its number."""
    new, details = checked.new, checked.customer
    order = new_row(
        Order,
        {
            "merchant_id": merchant.pk,
            "store_id": store.pk,
            "customer_id": customer.pk if customer is not None else None,
            "external_id": checked.external_id,
            "reference": reference,
            "customer_name": details.name,
            "customer_phone": details.phone,
            "customer_email": details.email,
            "shipping_address": details.address,
            "currency": merchant.currency,
            "subtotal": checked.subtotal,
            "shipping_fee": checked.shipping_fee,
            "discount": checked.discount,
            "total": checked.total,
            "payment_method": new.payment_method,
            "shipping_option": new.shipping_option.strip()[:100],
            "processing_days": checked.processing_days,
            "note": new.note,
            "placed_at": new.placed_at or timezone.now(),
        },
    )
    for relation, related in (
        (_ORDER_MERCHANT, merchant),
        (_ORDER_STORE, store),
        (_ORDER_CUSTOMER, customer),
    ):
        relation.set_cached_value(order, related)
    if paid:
        _mark_paid(order)
    return order


_ORDER_MERCHANT = Order._meta.get_field("merchant")
_ORDER_STORE = Order._meta.get_field("store")
_ORDER_CUSTOMER = Order._meta.get_field("customer")


def verify_payment(order_id: int, *, by: Actor) -> Order:
    """Mark the payment verified (or cash on delivery confirmed): Awaiting payment → Pending.

    Sets the due date from the processing days and queues the merchant's notifications.
    Raises OrderNotFound, TransitionRefused.
    """
    ensure_can(by, Permission.VERIFY_PAYMENTS)
    with _order_change(order_id, by, to=Order.Status.PENDING, action="verify the payment of") as change:
        change.event = _enter_order_tracking(change.order, by=by)
    return change.order


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

    Records the merchant's shipment, In transit, of every unit not yet in a shipment, with the
    delivery reference, expected date, photos and message; the customer is notified after
    commit. Raises InvalidOrder (missing reference, past date, long message), PhotoRefused,
    OrderNotFound, TransitionRefused (also when an earlier shipment has not left yet).
    """
    ensure_can(by, Permission.DISPATCH_ORDERS)

    def handover_for(order: Order):
        try:
            return fulfillment_actions.checked_handover(
                by=by,
                carrier=order.shipping_option,
                delivery_reference=delivery_reference,
                expected_on=expected_on,
                message=message,
                expected_on_required=True,
            )
        except InvalidShipment as refusal:
            raise InvalidOrder(refusal.message, field=refusal.field) from refusal

    prepared = []
    if photos:
        # The order's state first: "already dispatched" says more than a complaint about the
        # date; and every photo is decoded and re-encoded before anything is locked or written.
        order = _current_order(order_id, by)
        _ensure_transition(order, Order.Status.DISPATCHED, action="dispatch")
        handover_for(order)
        prepared = prepare_photos(photos)

    stored_photos = []
    try:
        # Without photos the order is read once, locked: its state is checked (by _order_change)
        # before the handover, so the refusals come in the same order.
        with _order_change(order_id, by, to=Order.Status.DISPATCHED, action="dispatch") as change:
            handover = handover_for(change.order)
            # Its lines and shipments read once (under the order's lock, which every writer of
            # them takes first): for the progress here and for the new shipment's units.
            _hold_lines_and_shipments(change.order)
            progress = shipping_progress(change.order)
            shipment = None
            if progress.units_in_shipments < progress.units_ordered:
                stored_photos = store_photos(prepared, merchant=change.order.merchant, uploaded_by=by.user)
                shipment = fulfillment_actions.create_shipment(
                    change.order.pk,
                    by=by,
                    status=Fulfillment.ShippingStatus.IN_TRANSIT,
                    handover=handover,
                    photos=stored_photos,
                    locked_order=change.order,
                )
                _forget_related(change.order, "fulfillments")  # one more now
                # The new shipment, in transit, holds every unit that was in none: what the order's
                # shipments now say, without reading them again.
                _follow_shipments(
                    change,
                    shipment,
                    progress=ShippingProgress(
                        units_ordered=progress.units_ordered,
                        units_in_shipments=progress.units_ordered,
                        units_on_their_way=progress.units_on_their_way
                        + progress.units_ordered
                        - progress.units_in_shipments,
                    ),
                )
            if change.order.status != Order.Status.DISPATCHED:
                raise TransitionRefused(
                    f"Order {change.order.reference} has a shipment that has not left yet, "
                    "so you cannot dispatch it all at once."
                )
    except BaseException:
        delete_photo_files(stored_photos)
        raise
    return change.order


def ship_order_lines(
    order_id: int,
    *,
    by: Actor,
    lines: Sequence[fulfillment_actions.ShipmentLine] | None,
    status: str = Fulfillment.ShippingStatus.PENDING,
    carrier: str = "",
    delivery_reference: str = "",
    expected_on: datetime.date | None = None,
    message: str = "",
) -> Fulfillment:
    """A shipment of some of a Pending order's lines by the merchant, Pending, Processing or In transit.

    When every unit is then on its way the order becomes Dispatched and the customer is told;
    otherwise it stays Pending, partly dispatched (see orders.shipping). Raises OrderNotFound,
    TransitionRefused, InvalidShipment, ShippingStatusRefused, NotAllowed.
    """
    ensure_can(by, Permission.UPDATE_SHIPMENTS)
    handover = None
    if status == Fulfillment.ShippingStatus.IN_TRANSIT or delivery_reference:
        handover = fulfillment_actions.checked_handover(
            by=by,
            carrier=carrier,
            delivery_reference=delivery_reference,
            expected_on=expected_on,
            message=message,
        )
    with _order_change(order_id, by, to=Order.Status.DISPATCHED, action="ship items of") as change:
        shipment = fulfillment_actions.create_shipment(
            change.order.pk, by=by, lines=lines, status=status, handover=handover
        )
        _follow_shipments(change, shipment)
    return shipment


def move_order_shipment(
    shipment_id: int,
    *,
    by: Actor,
    to: str,
    carrier: str = "",
    delivery_reference: str = "",
    expected_on: datetime.date | None = None,
    message: str = "",
    reason: str = "",
    place: str = "",
    tracking_url: str = "",
    occurred_at: datetime.datetime | None = None,
) -> Fulfillment:
    """Move one of the order's shipments along SHIPPING_TRANSITIONS; the order follows.

    A Pending order whose every unit is then on its way becomes Dispatched and the customer
    is told; otherwise the shipment's own message goes out (in transit, delivered: the
    customer; an exception: the merchant; see shipment_messages). A vendor's person moves
    only their vendor's shipments. Raises ShipmentNotFound, ShippingStatusRefused,
    InvalidShipment, NotAllowed.
    """
    ensure_can(by, Permission.UPDATE_SHIPMENTS)
    handover = None
    if delivery_reference:
        handover = fulfillment_actions.checked_handover(
            by=by,
            carrier=carrier,
            delivery_reference=delivery_reference,
            expected_on=expected_on,
            message=message,
            tracking_url=tracking_url,
        )
    try:
        order_id = one_shipment_for(by, shipment_id).values_list("order_id", flat=True).get()
    except (Fulfillment.DoesNotExist, ValueError, TypeError) as missing:
        raise ShipmentNotFound() from missing
    with _order_change(order_id, by) as change:
        shipment = fulfillment_actions.move_shipment(
            shipment_id, by=by, to=to, handover=handover, reason=reason, place=place, occurred_at=occurred_at
        )
        _follow_shipments(change, shipment)
        if change.event is None:
            queue_shipment_notifications(change.order, shipment)
    return shipment


def fulfill_order(order_id: int, *, by: Actor, remarks: str = "") -> Order:
    """Mark a delivered order fulfilled, with optional remarks: Dispatched → Fulfilled.

    The merchant's shipments still on their way are marked delivered.
    Raises OrderNotFound, TransitionRefused, InvalidOrder (remarks too long),
    ShippingStatusRefused (a shipment of the merchant's has not left yet).
    """
    ensure_can(by, Permission.FULFILL_ORDERS)
    remarks = (remarks or "").strip()
    # The order is read once, locked; its state is refused (by _order_change) before the remarks.
    with _order_change(order_id, by, to=Order.Status.FULFILLED, action="fulfill") as change:
        if len(remarks) > MAX_MESSAGE_LENGTH:
            raise InvalidOrder(f"Remarks have at most {MAX_MESSAGE_LENGTH} characters.", field="remarks")
        order = change.order
        for shipment in fulfillment_actions.locked_shipments_to_deliver(order.pk, by=by):
            fulfillment_actions.move_shipment(
                shipment.pk,
                by=by,
                to=Fulfillment.ShippingStatus.DELIVERED,
                order_locked=True,
                locked_shipment=shipment,
            )
        order.fulfilled_at = timezone.now()
        order.fulfill_remarks = remarks
        change.move(Order.Status.FULFILLED, "fulfilled_at", "fulfill_remarks")
        change.hold_event(events.order_fulfilled_event(order, by=by, status_before=change.status_before))
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
    with _order_change(order_id, by, to=Order.Status.CANCELLED, action="cancel") as change:
        order = change.order
        for shipment_id in fulfillment_actions.shipments_still_open(order.pk):
            fulfillment_actions.move_shipment(
                shipment_id,
                by=by,
                to=Fulfillment.ShippingStatus.EXCEPTION,
                reason=f"Order cancelled: {reason}",
            )
        order.cancelled_at = timezone.now()
        order.cancel_reason = reason
        change.move(Order.Status.CANCELLED, "cancelled_at", "cancel_reason")
        change.event = events.record_order_cancelled(order, by=by, status_before=change.status_before)
    return order


# --- the pieces the actions share -------------------------------------------------


def _current_order(order_id, by: Actor) -> Order:
    """The order as it is now, unlocked: for refusing early; the action re-checks under the lock."""
    try:
        return Order.objects.one_of_merchant(by.merchant, order_id).get()
    except (Order.DoesNotExist, ValueError, TypeError) as missing:
        raise OrderNotFound() from missing


@dataclass
class _OrderChange:
    """An order locked for one action: what it was, and the timeline event the action wrote."""

    order: Order
    by: Actor
    status_before: str
    event: OrderEvent | None = None
    # The shipment the event is about, handed to the messages so they need not look for it.
    shipment: Fulfillment | None = None
    # Timeline events built but not yet written: written at the end of the action, with the
    # "notifications queued" event, in one INSERT (hold_event).
    held_events: list[OrderEvent] = field(default_factory=list)

    def hold_event(self, event: OrderEvent) -> None:
        """The action's event, unsaved: _order_change writes it with the others in one INSERT."""
        self.held_events.append(event)
        self.event = event

    def move(self, to: str, *changed_fields: str) -> None:
        """Set the new status (tab counts kept in step) and save it with the other changed fields."""
        _move(self.order, to)
        save_fields(self.order, "status", *changed_fields, "updated_at")


@contextmanager
def _order_change(order_id, by: Actor, *, to: str | None = None, action: str = "") -> Iterator[_OrderChange]:
    """The sequence every order action shares, in one transaction: lock the order, check the move
    to `to` against ORDER_TRANSITIONS, let the action change it and write its event (the body),
    then queue the messages of that event. Its webhook events are queued together at the end."""
    with publishing_once():
        order = _locked_order(order_id, by)
        if to is not None:
            _ensure_transition(order, to, action=action)
        change = _OrderChange(order=order, by=by, status_before=order.status)
        yield change
        if change.held_events:
            # The held events and the "notifications queued" one after them: one INSERT.
            queued = queue_order_notifications(order, change.event.kind, shipment=change.shipment)
            if queued:
                change.held_events.append(
                    events.notifications_queued_event(order, by=by, notifications=queued)
                )
            events.write_events(change.held_events, orders=[order])
        elif change.event is not None:
            _queue_notifications(order, change.event.kind, by=by, shipment=change.shipment)


def _follow_shipments(
    change: _OrderChange, shipment: Fulfillment, *, progress: ShippingProgress | None = None
) -> None:
    """Apply the roll-up rule of orders.shipping after `shipment` changed: Pending → Dispatched
    when every unit is on its way, with the dispatched event naming that shipment; and, when the
    merchant chose `fulfil_when_delivered`, Dispatched → Fulfilled once every shipment is delivered.
    `progress`: the order's shipping progress after the change, when the caller knows it."""
    order = change.order
    announce_handover(order, shipment, by=change.by)
    to = status_following_shipments(order.status, progress or shipping_progress(order))
    if to != order.status:
        order.dispatched_at = timezone.now()
        change.move(to, "dispatched_at")
        change.shipment = shipment
        change.hold_event(
            events.order_dispatched_event(
                order, by=change.by, status_before=change.status_before, shipment=shipment
            )
        )
    if order.merchant.fulfil_when_delivered and _every_unit_delivered(order):
        # The merchant's setting: the last delivery fulfills the order, as their Fulfill would.
        status_before = order.status
        order.fulfilled_at = timezone.now()
        order.fulfill_remarks = "Every shipment was delivered."
        change.move(Order.Status.FULFILLED, "fulfilled_at", "fulfill_remarks")
        change.hold_event(events.order_fulfilled_event(order, by=change.by, status_before=status_before))


def _every_unit_delivered(order: Order) -> bool:
    """A Dispatched order whose every unit is in a shipment, and every shipment delivered."""
    if order.status != Order.Status.DISPATCHED:
        return False
    shipments = list(order.fulfillments.all())
    progress = shipping_progress(order)
    return (
        progress.units_in_shipments >= progress.units_ordered
        and bool(shipments)
        and all(shipment.status == Fulfillment.ShippingStatus.DELIVERED for shipment in shipments)
    )


def _locked_order(order_id, by: Actor) -> Order:
    # The order's row alone is locked (`of`): its merchant and store are read beside it, not
    # locked, or every action on any of the merchant's orders would wait for every other. The
    # query is compiled once (locked_reads): the ORM's compiling of it cost more than running it.
    try:
        order = (
            None if by.merchant is None else locked_order_with_merchant_and_store(by.merchant.pk, order_id)
        )
    except (ValueError, TypeError) as missing:
        raise OrderNotFound() from missing
    if order is None:
        raise OrderNotFound()
    return order


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


def _enter_order_tracking(order: Order, *, by: Actor) -> OrderEvent:
    status_before = order.status
    _move(order, Order.Status.PENDING)
    _mark_paid(order)
    order.save(update_fields=["status", "payment_status", "payment_verified_at", "due_on", "updated_at"])
    event = events.record_payment_verified(order, by=by, status_before=status_before)
    if order.merchant.auto_processing:
        # Auto-processing (the guide's default): hosted lines go to their vendors at once.
        allocate_on_entry(order, by=by)
    return event


def _mark_paid(order: Order) -> None:
    """Pending, paid (or cash on delivery confirmed) now, due after its processing days; unsaved.
    The caller keeps the tab counts (it knows whether the order is new)."""
    now = timezone.now()
    order.status = Order.Status.PENDING
    order.payment_status = (
        Order.PaymentStatus.COD_CONFIRMED
        if order.payment_method == Order.PaymentMethod.CASH_ON_DELIVERY
        else Order.PaymentStatus.PAID
    )
    order.payment_verified_at = now
    order.due_on = timezone.localdate(now, timezone=order.merchant.zone) + datetime.timedelta(
        days=order.processing_days
    )


def _move(order: Order, to: str) -> None:
    """Set the new status and keep the tab counts in step (inside the action's transaction)."""
    count_status_change(order.merchant_id, before=order.status, after=to)
    order.status = to


def _queue_notifications(order: Order, trigger: str, *, by: Actor, shipment=None) -> None:
    queued = queue_order_notifications(order, trigger, shipment=shipment)
    if queued:
        events.record_notifications_queued(order, by=by, notifications=queued)


def _write_lines(order: Order, lines: Sequence[LineInput]) -> None:
    """The order's lines as checked (a snapshot of what was bought), in one INSERT."""
    insert_values(OrderLine, _LINE_COLUMNS, _line_rows(order, lines))


def _insert_order(order: Order, *, count: bool, or_nothing: bool) -> bool:
    """Write the new order and give it its id; with `count`, move its tab counter too (it is
    created in its final status), in the same statement on PostgreSQL (a data-modifying WITH).
    With `or_nothing` an order whose store order id or reference is taken is not written
    (INSERT … ON CONFLICT DO NOTHING): returns False. The unique constraints decide, whoever
    else is recording, and a refusal costs no read before the write."""
    order_sql, order_params = insert_sql_of([order])
    on_conflict = " ON CONFLICT DO NOTHING" if or_nothing else ""
    counted_here = count and connection.vendor == "postgresql"
    with fixed_statement_cursor() as cursor:
        if counted_here:
            cursor.execute(
                f"WITH {_q('c')} AS ({count_change_sql()} RETURNING 1) {order_sql}{on_conflict} "
                f"RETURNING {_q('id')}, (SELECT count(*) FROM {_q('c')})",
                [1, order.merchant_id, order.status, *order_params],
            )
        else:
            cursor.execute(f"{order_sql}{on_conflict} RETURNING {_q('id')}", order_params)
        row = cursor.fetchone()
    if row is None:
        return False
    order.pk = row[0]
    order._state.adding = False
    order._state.db = DEFAULT_DB_ALIAS
    if count and not (counted_here and row[1]):
        # Counted by the flush just before the commit, or the merchant's first order in this
        # status, whose counter row is made.
        count_status_change(order.merchant_id, before=None, after=order.status)
    return True


def _duplicate_of(checked: _CheckedOrder, store, reference: str) -> DomainError | IntegrityError:
    """Why the order's INSERT wrote nothing: its store order is already recorded, or else its
    reference is taken (the first found, as the refusals have always been checked)."""
    if checked.external_id:
        existing = (
            Order.objects.filter(store=store, external_id=checked.external_id)
            .values_list("pk", flat=True)
            .first()
        )
        if existing:
            return DuplicateOrder(
                f"Order {checked.external_id} from {store.name} is already recorded.",
                existing_order_id=existing,
            )
    if checked.reference:
        return DuplicateOrder(f"Order reference {checked.reference} is already taken.", field="reference")
    # A number the merchant had given an order by hand (as before, not a refusal a person can act on).
    return IntegrityError(f"The order's reference {reference} is already taken.")


def _number_order(order: Order, merchant: Merchant, details: CustomerDetails) -> None:
    """PostgreSQL, an order written under a stand-in reference and without its customer: take
    the merchant's row lock and its next order number, moving the order's tab counter, in one
    statement; then, under the lock, find or make its customer and give the order both in one
    more. Everything after holds the lock only until the commit."""
    with fixed_statement_cursor() as cursor:
        cursor.execute(_number_sql(), [1, merchant.pk, 1, merchant.pk, order.status])
        prefix, number, counted = cursor.fetchone()
    merchant.order_reference_prefix, merchant.last_order_number = prefix, number
    if not counted:
        # The merchant's first order in this status: its counter row is made.
        count_status_change(order.merchant_id, before=None, after=order.status)
    order.reference = f"{prefix}-{number}"
    customer = _customer_for(merchant, details, numbered=order)
    order.customer_id = customer.pk
    _ORDER_CUSTOMER.set_cached_value(order, customer)


@functools.cache
def _number_sql() -> str:
    """The merchant's next order numbers and its row lock (params: numbers, merchant id), then
    one status's counter moved (params: change, merchant id, status): the merchant's row is
    locked before the counter's whatever order PostgreSQL runs the two in, as every writer of
    the merchant locks them."""
    quote = connection.ops.quote_name
    counter = quote("last_order_number")
    return (
        f"WITH {quote('n')} AS (UPDATE {quote(Merchant._meta.db_table)} SET {counter} = {counter} + %s "
        f"WHERE {quote('id')} = %s RETURNING {quote('order_reference_prefix')}, {counter}), "
        f"{quote('c')} AS ({count_change_sql()} AND EXISTS (SELECT 1 FROM {quote('n')}) RETURNING 1) "
        f"SELECT {quote('n')}.{quote('order_reference_prefix')}, {quote('n')}.{counter}, "
        f"(SELECT count(*) FROM {quote('c')}) FROM {quote('n')}"
    )


def _hold_related(order: Order, **rows: list) -> None:
    """Give a new order its related rows as they were just written, as prefetch_related would
    (`order.lines.all()` then reads none again): Django's prefetch cache, filled by hand."""
    held = order.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, written in rows.items():
        related = getattr(order, name).get_queryset()
        related._result_cache = list(written)
        related._prefetch_done = True
        held[name] = related


def _hold_lines_and_shipments(order: Order) -> None:
    """prefetch_related_objects([order], "lines", "fulfillments__lines"), in plain SQL: the lines
    with whether the order has any shipment in one statement (most orders dispatched have none),
    then its shipments and their lines only when it has. Every dispatch reads these; the ORM's
    compiling of the prefetch queries cost more than running them."""
    shipments: list[Fulfillment] = []
    with fixed_statement_cursor() as cursor:
        cursor.execute(_lines_and_shipped_sql(), [order.pk, order.pk])
        found = cursor.fetchall()
        lines = [rows.instance(OrderLine, row[:-1]) for row in found]
        if any(row[-1] for row in found):
            cursor.execute(_shipments_sql(), [order.pk])
            shipments = [rows.instance(Fulfillment, row) for row in cursor.fetchall()]
    for line in lines:
        _LINE_ORDER.set_cached_value(line, order)
    entries: dict[int, list[FulfillmentLine]] = {shipment.pk: [] for shipment in shipments}
    if shipments:
        entries_of = FulfillmentLine.objects.filter(fulfillment_id__in=list(entries)).order_by("pk")
        for entry in entries_of:
            entries[entry.fulfillment_id].append(entry)
    for shipment in shipments:
        _SHIPMENT_ORDER.set_cached_value(shipment, order)
        _hold_related(shipment, lines=entries[shipment.pk])
    _hold_related(order, lines=lines, fulfillments=shipments)


_LINE_ORDER = OrderLine._meta.get_field("order")
_SHIPMENT_ORDER = Fulfillment._meta.get_field("order")


@functools.cache
def _lines_and_shipped_sql() -> str:
    """The order's lines in id order, each with whether the order has a shipment (params: the
    order's id twice)."""
    lines, shipments = OrderLine._meta.db_table, Fulfillment._meta.db_table
    return (
        f"SELECT {rows.columns(OrderLine)}, EXISTS (SELECT 1 FROM {_q(shipments)} WHERE {_q('order_id')} = %s) "
        f"FROM {_q(lines)} WHERE {_q('order_id')} = %s ORDER BY {_q('id')}"
    )


@functools.cache
def _shipments_sql() -> str:
    return (
        f"SELECT {rows.columns(Fulfillment)} FROM {_q(Fulfillment._meta.db_table)} "
        f"WHERE {_q('order_id')} = %s ORDER BY {_q('created_at')}, {_q('id')}"
    )


def _forget_related(order: Order, name: str) -> None:
    order.__dict__.get("_prefetched_objects_cache", {}).pop(name, None)


def _order_lines(order: Order, lines: Sequence[LineInput]) -> list[OrderLine]:
    """The order's lines as unsaved instances, for the single path that hands them back as written."""
    return [
        new_row(OrderLine, dict(zip(_LINE_COLUMNS, row, strict=True))) for row in _line_rows(order, lines)
    ]


_LINE_COLUMNS = (
    "merchant_id",
    "order_id",
    "variant_id",
    "sku",
    "title",
    "variant_title",
    "quantity",
    "unit_price",
)


def _line_rows(order: Order, lines: Sequence[LineInput]) -> list[tuple]:
    """The order's lines as values of _LINE_COLUMNS."""
    merchant_id, order_id = order.merchant_id, order.pk
    return [
        (
            merchant_id,
            order_id,
            line.variant_id,
            line.sku,
            line.title,
            line.variant_title,
            line.quantity,
            line.unit_price,
        )
        for line in lines
    ]


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


def _variants_of(merchant: Merchant, lines: Sequence[LineInput]) -> set[int]:
    """Which of these lines' variant ids are the merchant's (one query)."""
    return batch_reads.merchant_variant_ids(
        merchant.pk, {line.variant_id for line in lines if line.variant_id is not None}
    )


def _stores_for(merchant: Merchant, store_ids: set[int | None]) -> dict:
    """The merchant's stores by id (None: its manual orders store); another's ids left out."""
    Store = _stores()  # noqa: N806
    found: dict = {}
    if None in store_ids:
        found[None] = _store_for(merchant, None)
    # An id no row can have is simply not found (the databases refuse integers that large).
    wanted = [pk for pk in store_ids if pk is not None and not (type(pk) is int and not 0 < pk < 2**63)]
    if wanted:
        found.update(
            {store.pk: store for store in Store.objects.for_merchant(merchant).filter(pk__in=wanted)}
        )
    return found


def _ensure_acceptable(
    order: _CheckedOrder,
    stores: dict,
    known_variants: set[int],
    taken_external: dict[tuple[int, str], int | None],
    taken_references: set[str],
) -> None:
    """record_order's database checks for one order of a batch, against what was read for the
    whole batch; an accepted order's external id and reference count as taken for the rest."""
    store = stores.get(order.new.store_id)
    if store is None:
        raise InvalidOrder("That store does not exist.", field="store")
    for position, line in enumerate(order.lines, start=1):
        if line.variant_id is not None and line.variant_id not in known_variants:
            raise InvalidOrder(
                f"Item {position} ({line.title}): that product variant does not exist.", field="lines"
            )
    if order.external_id and (store.pk, order.external_id) in taken_external:
        raise DuplicateOrder(
            f"Order {order.external_id} from {store.name} is already recorded.",
            existing_order_id=taken_external[(store.pk, order.external_id)],
        )
    if order.reference and order.reference in taken_references:
        raise DuplicateOrder(f"Order reference {order.reference} is already taken.", field="reference")
    if order.external_id:
        taken_external[(store.pk, order.external_id)] = None
    if order.reference:
        taken_references.add(order.reference)


MANUAL_ORDERS_STORE = "Manual orders"


def _stores():
    """The stores' model, as the order's `store` foreign key names it: the stores app (the sync
    connectors) imports orders, so orders reaches the model through its own relation."""
    return Order._meta.get_field("store").related_model


def _merchant_and_store(
    merchant_id: int, store_id: int | None, *, numbers: int | None
) -> tuple[Merchant, object]:
    """The merchant and the order's store (its manual orders store when None). With `numbers`,
    the merchant's row locked by taking that many order numbers from its counter (0: only
    locked; `last_order_number` is then the last number taken); None: read without a lock.
    PostgreSQL answers in one statement, SQLite in two; a store not yet made, or not the
    merchant's, takes the long way, under the lock (the store may be made)."""
    Store = _stores()  # noqa: N806
    by_name = store_id is None
    store_key = MANUAL_ORDERS_STORE if by_name else store_id
    # An id no row can have is left to the long way, which finds no such store.
    findable = by_name or (type(store_id) is int and 0 < store_id < 2**63)
    store = None
    with fixed_statement_cursor() as cursor:
        if connection.vendor == "postgresql" and findable:
            if numbers is None:
                cursor.execute(_merchant_and_store_sql(by_name, locked=False), [store_key, merchant_id])
            else:
                cursor.execute(
                    _merchant_and_store_sql(by_name, locked=True), [numbers, merchant_id, store_key]
                )
            row = cursor.fetchone()
            if row is None:
                raise Merchant.DoesNotExist("Merchant matching query does not exist.")
            split = rows.width(Merchant)
            merchant = rows.instance(Merchant, row[:split])
            if row[split] is not None:
                store = rows.instance(Store, row[split:])
        else:
            cursor.execute(_counted_merchant_sql(), [numbers or 0, merchant_id])
            row = cursor.fetchone()
            if row is None:
                raise Merchant.DoesNotExist("Merchant matching query does not exist.")
            merchant = rows.instance(Merchant, row)
            if findable:
                cursor.execute(_store_sql(by_name), [merchant_id, store_key])
                row = cursor.fetchone()
                store = rows.instance(Store, row) if row is not None else None
        if store is None and numbers is None and findable:
            # The merchant's first manual order makes its store: under the lock, as every writer
            # of the merchant's rows outside an order's own does.
            cursor.execute(_counted_merchant_sql(), [0, merchant_id])
    if store is None:
        store = _store_for(merchant, store_id)
    return merchant, store


@functools.cache
def _counted_merchant_sql() -> str:
    """UPDATE … RETURNING the merchant: takes its row lock and order numbers in one statement."""
    quote = connection.ops.quote_name
    counter = quote("last_order_number")
    return (
        f"UPDATE {quote(Merchant._meta.db_table)} SET {counter} = {counter} + %s "
        f"WHERE {quote('id')} = %s RETURNING {rows.columns(Merchant)}"
    )


@functools.cache
def _store_sql(by_name: bool) -> str:
    Store = _stores()  # noqa: N806
    quote = connection.ops.quote_name
    key = quote("name") if by_name else quote("id")
    return (
        f"SELECT {rows.columns(Store)} FROM {quote(Store._meta.db_table)} "
        f"WHERE {quote('merchant_id')} = %s AND {key} = %s"
    )


@functools.cache
def _merchant_and_store_sql(by_name: bool, *, locked: bool) -> str:
    """PostgreSQL: the merchant, counted and locked (a data-modifying WITH) or only read, and its
    store, one row."""
    Store = _stores()  # noqa: N806
    quote = connection.ops.quote_name
    key = quote("name") if by_name else quote("id")
    store_join = (
        f"LEFT JOIN {quote(Store._meta.db_table)} {quote('s')} "
        f"ON {quote('s')}.{quote('merchant_id')} = {quote('m')}.{quote('id')} AND {quote('s')}.{key} = %s"
    )
    columns = f"{rows.columns(Merchant, 'm')}, {rows.columns(Store, 's')}"
    if not locked:
        return (
            f"SELECT {columns} FROM {quote(Merchant._meta.db_table)} {quote('m')} {store_join} "
            f"WHERE {quote('m')}.{quote('id')} = %s"
        )
    return f"WITH {quote('m')} AS ({_counted_merchant_sql()}) SELECT {columns} FROM {quote('m')} {store_join}"


def _store_for(merchant: Merchant, store_id: int | None):
    Store = _stores()  # noqa: N806
    if store_id is None:
        store, _ = Store.objects.get_or_create(
            merchant=merchant, name=MANUAL_ORDERS_STORE, defaults={"channel": Store.Channel.MANUAL}
        )
        return store
    try:
        return Store.objects.for_merchant(merchant).get(pk=store_id)
    except Store.DoesNotExist as missing:
        raise InvalidOrder("That store does not exist.", field="store") from missing


def _customer_for(merchant: Merchant, details: CustomerDetails, *, numbered: Order | None = None) -> Customer:
    """The merchant's customer with this phone (or else email; the oldest when several), created
    when new. Plain SQL, one statement on PostgreSQL (the lookup, and the INSERT when it found
    none), a lookup and maybe an INSERT on SQLite. The merchant row lock, held by the caller,
    keeps two orders of one new customer from both creating it.

    `numbered` (PostgreSQL): an order written without its customer, just numbered; the same
    statement gives it the customer and its reference."""
    wanted = [
        (column, value) for column, value in (("phone", details.phone), ("email", details.email)) if value
    ]
    made = new_row(
        Customer,
        {
            "merchant_id": merchant.pk,
            "name": details.name,
            "phone": details.phone,
            "email": details.email,
            "address": details.address,
        },
    )
    if not wanted and numbered is None:
        insert([made])
        return made
    with fixed_statement_cursor() as cursor:
        if connection.vendor == "postgresql":
            insert_sql, insert_params = insert_sql_of([made], casts=True)
            made_as = f"{_q('made')} AS ({insert_sql}"
            params: list = []
            if wanted:
                lookup_sql, params = _customer_lookup(merchant.pk, wanted)
                chosen = f"SELECT * FROM {_q('found')} UNION ALL SELECT * FROM {_q('made')}"
                with_sql = (
                    f"{_q('found')} AS ({lookup_sql}), "
                    f"{made_as} WHERE NOT EXISTS (SELECT 1 FROM {_q('found')}) RETURNING {rows.columns(Customer)})"
                )
            else:
                chosen = f"SELECT * FROM {_q('made')}"
                with_sql = f"{made_as} RETURNING {rows.columns(Customer)})"
            params += insert_params
            if numbered is None:
                cursor.execute(f"WITH {with_sql} {chosen}", params)
                return rows.instance(Customer, cursor.fetchone())
            # The UPDATE runs to its end though nothing reads it (PostgreSQL runs every
            # data-modifying WITH exactly once).
            cursor.execute(
                f"WITH {with_sql}, {_q('chosen')} AS ({chosen}), "
                f"{_q('given')} AS (UPDATE {_q(Order._meta.db_table)} SET {_q('reference')} = %s, "
                f"{_q('customer_id')} = (SELECT {_q('id')} FROM {_q('chosen')}) WHERE {_q('id')} = %s) "
                f"SELECT * FROM {_q('chosen')}",
                [*params, numbered.reference, numbered.pk],
            )
            return rows.instance(Customer, cursor.fetchone())
        cursor.execute(*_customer_lookup(merchant.pk, wanted))
        found = cursor.fetchone()
    if found is not None:
        return rows.instance(Customer, found)
    insert([made])
    return made


def _customer_lookup(merchant_id: int, wanted: list[tuple[str, str]]) -> tuple[str, list]:
    """The oldest customer with the phone, or else the oldest with the email (of those given,
    in that order): one probe of its own index each, the first found wins. An OR of the two
    let PostgreSQL, with statistics older than a merchant's customers, walk all of them."""
    table, columns = _q(Customer._meta.db_table), rows.columns(Customer)
    probes, params = [], []
    for rank, (column, value) in enumerate(wanted):
        probes.append(
            f"SELECT * FROM (SELECT {columns}, {rank} AS {_q('rank')} FROM {table} "
            f"WHERE {_q('merchant_id')} = %s AND {_q(column)} = %s ORDER BY {_q('id')} LIMIT 1) "
            f"AS {_q(f'by_{column}')}"
        )
        params += [merchant_id, value]
    return (
        f"SELECT {columns} FROM ({' UNION ALL '.join(probes)}) AS {_q('probes')} "
        f"ORDER BY {_q('rank')} LIMIT 1",
        params,
    )


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _customers_for(merchant: Merchant, many: Sequence[CustomerDetails]) -> list[Customer]:
    """For each details, the merchant's customer with that phone (or else that email; the
    oldest when several), created when new: one created customer serves the later orders
    of the batch with the same phone or email. Reads by phone and email in one query,
    creates the new ones in one INSERT."""
    by_phone: dict[str, Customer] = {}
    by_email: dict[str, Customer] = {}
    for customer in batch_reads.customers_by_phone_or_email(
        merchant.pk, {d.phone for d in many if d.phone}, {d.email for d in many if d.email}
    ):
        _remember(customer, by_phone, by_email)
    return _chosen_or_created(merchant, many, by_phone, by_email, bulk=True)


def _chosen_or_created(
    merchant: Merchant, many: Sequence[CustomerDetails], by_phone: dict, by_email: dict, *, bulk: bool = False
) -> list[Customer]:
    """Each details' customer of those found (by_phone, by_email), or a new one (one INSERT)."""
    # Both maps keep the oldest customer of each phone and email, wherever it was found.
    chosen, created = [], []
    for details in many:
        customer = (by_phone.get(details.phone) if details.phone else None) or (
            by_email.get(details.email) if details.email else None
        )
        if customer is None:
            customer = new_row(
                Customer,
                {
                    "merchant_id": merchant.pk,
                    "name": details.name,
                    "phone": details.phone,
                    "email": details.email,
                    "address": details.address,
                },
            )
            created.append(customer)
            _remember(customer, by_phone, by_email)
        chosen.append(customer)
    if created:
        insert(created, bulk=bulk)
    return chosen


def _remember(customer: Customer, by_phone: dict, by_email: dict) -> None:
    if customer.phone:
        by_phone.setdefault(customer.phone, customer)
    if customer.email:
        by_email.setdefault(customer.email, customer)


def _ensure_printable(text: str, what: str, field_name: str) -> None:
    """Refuse NUL bytes: PostgreSQL cannot store them in text, and no person types one."""
    if "\x00" in (text or ""):
        raise InvalidOrder(f"The {what} contains a NUL character.", field=field_name)


def normalized_phone(raw: str) -> str:
    """normalize_phone, remembered: a store import normalizes a phone before recording the
    order, which checks the normalized number again; both are answered from here the second
    time (parsing a number is most of the cost of checking an order)."""
    found = _PHONES_SEEN.get(raw)
    if found is None:
        found = normalize_phone(raw)
        if len(_PHONES_SEEN) > 20_000:
            _PHONES_SEEN.clear()
        _PHONES_SEEN[raw] = _PHONES_SEEN[found] = found
    return found


_PHONES_SEEN: dict[str, str] = {}


def _checked_customer(customer: CustomerDetails) -> CustomerDetails:
    for text, what, field_name in (
        (customer.name, "customer's name", "customer_name"),
        (customer.phone, "customer's phone", "customer_phone"),
        (customer.email, "customer's email", "customer_email"),
        (customer.address, "shipping address", "shipping_address"),
    ):
        _ensure_printable(text, what, field_name)
    name = (customer.name or "").strip()
    if not name:
        raise InvalidOrder("Enter the customer's name.", field="customer_name")
    phone = ""
    if (customer.phone or "").strip():
        try:
            phone = normalized_phone(customer.phone)
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
    # The messages are made only for a line that has a NUL (a batch checks thousands of lines).
    if "\x00" in (line.title or "") + (line.sku or "") + (line.variant_title or ""):
        for text, what in ((line.title, "title"), (line.sku, "SKU"), (line.variant_title, "variant")):
            _ensure_printable(text, f"{what} of item {position}", "lines")
    title = (line.title or "").strip()
    if not title:
        raise InvalidOrder(f"Item {position} needs a title.", field="lines")
    if not isinstance(line.quantity, int) or isinstance(line.quantity, bool) or line.quantity < 1:
        raise InvalidOrder(f"Item {position} ({title}) needs a quantity of at least 1.", field="lines")
    if line.quantity > MAX_LINE_QUANTITY:
        raise InvalidOrder(
            f"Item {position} ({title}) has a quantity of {line.quantity:,}; "
            f"at most {MAX_LINE_QUANTITY:,} of one item per order.",
            field="lines",
        )
    unit_price = line.unit_price
    if not (
        type(unit_price) is Decimal
        and unit_price.is_finite()
        and 0 <= unit_price < MONEY_LIMIT
        and unit_price.as_tuple().exponent >= -2
    ):
        # Anything but a plain amount in cents is read, and refused, as _money says.
        unit_price = _money(unit_price, f"price of item {position} ({title})", "lines")
    unit_price = unit_price.quantize(CENT)
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
    if amount >= MONEY_LIMIT:
        raise InvalidOrder(f"The {what} is too large (at most 9,999,999,999.99).", field=field_name)
    return amount.quantize(CENT)


def update_order_from_store(order_id: int, *, by: Actor, new: NewOrder) -> Order:
    """Apply a store's change of customer, address, lines or shipping to an order not yet dispatched.

    Lines are replaced and the totals recomputed; the timeline says what changed, before
    and after. Raises InvalidOrder (bad details), OrderNotFound, TransitionRefused (the
    order has left Pending: the caller flags the change instead).
    """
    ensure_can(by, Permission.RECORD_ORDERS)
    customer = _checked_customer(new.customer)
    lines = [_checked_line(index, line) for index, line in enumerate(new.lines, start=1)]
    if not lines:
        raise InvalidOrder("An order needs at least one item.", field="lines")
    shipping_fee = _money(new.shipping_fee, "shipping fee", "shipping_fee")
    discount = _money(new.discount, "discount", "discount")
    _ensure_printable(new.shipping_option, "shipping option", "shipping_option")
    subtotal = sum((line.unit_price * line.quantity for line in lines), Decimal("0"))
    total = subtotal + shipping_fee - discount
    if total < 0:
        raise InvalidOrder("The discount is larger than the order's value.", field="discount")
    if subtotal >= MONEY_LIMIT or total >= MONEY_LIMIT:
        raise InvalidOrder("The order's total is too large.", field="lines")
    with transaction.atomic():
        order = _locked_order(order_id, by)
        if order.status not in (Order.Status.AWAITING_PAYMENT, Order.Status.PENDING):
            raise TransitionRefused(
                f"Order {order.reference} {_DONE_ALREADY[order.status]}, so the store's change is not applied."
            )
        _ensure_variants_belong_to(order.merchant, lines)
        old_lines = list(order.lines.all())
        before = {
            "customer_name": order.customer_name,
            "customer_phone": order.customer_phone,
            "customer_email": order.customer_email,
            "shipping_address": order.shipping_address,
            "shipping_option": order.shipping_option,
            "shipping_fee": str(order.shipping_fee),
            "discount": str(order.discount),
            "lines": [_line_summary(line) for line in old_lines],
        }
        after = {
            "customer_name": customer.name,
            "customer_phone": customer.phone,
            "customer_email": customer.email,
            "shipping_address": customer.address,
            "shipping_option": new.shipping_option.strip()[:100],
            "shipping_fee": str(shipping_fee),
            "discount": str(discount),
            "lines": [_line_summary(line) for line in lines],
        }
        changes = {
            name: {"before": before[name], "after": after[name]}
            for name in before
            if before[name] != after[name]
        }
        if not changes:
            return order
        order.customer_name = customer.name
        order.customer_phone = customer.phone
        order.customer_email = customer.email
        order.shipping_address = customer.address
        order.shipping_option = after["shipping_option"]
        order.shipping_fee = shipping_fee
        order.discount = discount
        order.subtotal = subtotal
        order.total = total
        order.save()
        if "lines" in changes:
            order.lines.all().delete()
            _write_lines(order, lines)
        events.record_order_updated_from_store(order, by=by, changes=changes)
    return order


def _line_summary(line) -> str:
    return f"{line.quantity} × {line.title}{f' ({line.sku})' if line.sku else ''} @ {line.unit_price}"
