"""The write side of after-sales: one function per step of a case.

Each runs in one transaction and locks in the project's one order: the order row, then its
lines, then its shipments, then its cases; then checks the step against CASE_TRANSITIONS and
who may take it, changes the case, writes an OrderEvent on the order's timeline and queues
its messages (sent after commit).

Who takes which step: the merchant's side (owner, staff, a read-write key) opens, resolves
and closes cases, records refunds; the case's handler (its vendor's users, or the merchant's
side for lines the merchant shipped) accepts or rejects it. Both write in the thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.permissions import Permission, ensure_can
from orderdesk.fulfillment import actions as fulfillment_actions
from orderdesk.fulfillment.models import Fulfillment, FulfillmentLine
from orderdesk.money import format_money
from orderdesk.orders import events
from orderdesk.orders.after_sales_money import record_after_sales_money
from orderdesk.orders.errors import OrderNotFound
from orderdesk.orders.models import Order, OrderEvent, OrderLine
from orderdesk.photos.actions import delete_photo_files, prepare_photos, store_photos

from . import messages
from .errors import CaseNotFound, CaseStatusRefused, InvalidCase
from .models import CASE_TRANSITIONS, REFUND_MODES, AfterSalesCase, CaseLine, CaseMessage
from .queries import cases_seen_by, claimable_lines

MAX_TEXT_LENGTH = 2000
MAX_REASON_LENGTH = 1000
CENT = Decimal("0.01")
MONEY_LIMIT = Decimal("10000000000")

Status = AfterSalesCase.Status


@dataclass(frozen=True)
class CaseLineInput:
    """How many units of one order line the merchant claims for."""

    order_line_id: int
    quantity: int


def open_cases(
    order_id: int,
    *,
    by: Actor,
    type: str,
    mode: str,
    lines: Sequence[CaseLineInput],
    text: str,
    photos: Sequence = (),
) -> list[AfterSalesCase]:
    """Open after-sales cases for shipped units of the order: one per shipper (each vendor, and
    the merchant for its own lines), with the same type, mode, words and photos.

    Only units shipped (handed to a carrier) and not held by an earlier case can be claimed.
    Each vendor is emailed. Raises InvalidCase (type, mode, products, words), PhotoRefused,
    OrderNotFound, NotAllowed.
    """
    ensure_can(by, Permission.MANAGE_AFTER_SALES)
    _ensure_merchant_side(by, "open an after-sales case")
    if type not in AfterSalesCase.Type.values:
        raise InvalidCase("Choose the after-sales type.", field="type")
    if mode not in AfterSalesCase.Mode.values:
        raise InvalidCase("Choose the after-sales mode.", field="mode")
    wanted = _wanted_units(lines)
    text = _checked_text(text, "Say what happened: the words that prove the problem.", "text")
    prepared = prepare_photos(photos)

    stored_photos = []
    try:
        with transaction.atomic():
            order = _lock_order(order_id, by)
            claimable = {line.order_line_id: line for line in claimable_lines(order)}
            split = _split_by_shipper(wanted, claimable)
            stored_photos = store_photos(prepared, merchant=order.merchant, uploaded_by=by.user)
            now = timezone.now()
            opened = []
            for vendor_id, units in split.items():
                case = AfterSalesCase.objects.create(
                    merchant_id=order.merchant_id,
                    order=order,
                    vendor_id=vendor_id,
                    type=type,
                    mode=mode,
                    text=text,
                    created_by=by.user,
                    created_by_name=by.display_name,
                    created_at=now,
                    updated_at=now,
                    requested_credit=_vendor_charges(order, vendor_id, units)
                    if mode in REFUND_MODES
                    else None,
                )
                CaseLine.objects.bulk_create(
                    CaseLine(
                        merchant_id=order.merchant_id, case=case, order_line_id=line_id, quantity=quantity
                    )
                    for line_id, quantity in units.items()
                )
                if stored_photos:
                    case.photos.set(stored_photos)
                titles = {line_id: claimable[line_id].title for line_id in units}
                details = [
                    f"{case.get_type_display()}, {case.get_mode_display().lower()}",
                    f"With {case.vendor.name if vendor_id else 'you (your own shipment)'}",
                    *(f"{quantity} × {titles[line_id]}" for line_id, quantity in units.items()),
                ]
                _record(order, case, by, OrderEvent.Kind.AFTER_SALES_OPENED, details)
                if vendor_id is not None:
                    messages.queue_case_opened(case)
                opened.append(case)
            record_after_sales_money(order, cases_opened=len(opened))
    except BaseException:
        delete_photo_files(stored_photos)
        raise
    return opened


def accept_case(
    case_id: int,
    *,
    by: Actor,
    vendor_credit: Decimal | str | None = None,
    resend_cost: Decimal | str | None = None,
) -> AfterSalesCase:
    """The handler accepts the case: Open → Accepted.

    A resend creates the new shipment of the case's lines by the case's shipper, pending, with
    `resend_cost` (what it costs the merchant; 0 when not given). A vendor's refund case records
    its credit to the merchant (`vendor_credit`, at most the credit asked; the credit asked when
    not given). The merchant is emailed. Raises CaseNotFound, CaseStatusRefused, InvalidCase,
    NotAllowed.
    """
    ensure_can(by, Permission.ANSWER_AFTER_SALES)
    credit = _amount(vendor_credit, "credit", "vendor_credit") if vendor_credit not in (None, "") else None
    cost = _amount(resend_cost, "resend's cost", "resend_cost") if resend_cost not in (None, "") else None
    with transaction.atomic():
        order, case = _lock_case(case_id, by)
        _ensure_handler(case, by, "accept")
        _ensure_move(case, Status.ACCEPTED, "accepted")
        details = []
        if case.vendor_id is not None and case.mode in REFUND_MODES:
            if credit is None:
                credit = case.requested_credit or Decimal("0")
            if case.requested_credit is not None and credit > case.requested_credit:
                raise InvalidCase(
                    f"The credit can be at most the {format_money(case.requested_credit, case.vendor.currency)} asked.",
                    field="vendor_credit",
                )
            case.vendor_credit = credit
            details.append(f"Vendor's credit {format_money(credit, case.vendor.currency)}")
        elif credit:
            raise InvalidCase("A credit is agreed only on a vendor's refund case.", field="vendor_credit")
        if case.mode == AfterSalesCase.Mode.RESEND:
            case.resend_cost = cost or Decimal("0")
            case.resend_shipment = fulfillment_actions.create_shipment(
                order.pk,
                by=by,
                vendor_id=case.vendor_id,
                resend=True,
                lines=[
                    fulfillment_actions.ShipmentLine(
                        line.order_line_id, line.quantity, unit_cost=Decimal("0"), shipping_cost=Decimal("0")
                    )
                    for line in case.lines.all()
                ],
            )
            details.append(f"Resend shipment #{case.resend_shipment.pk} created")
        elif cost:
            raise InvalidCase("A cost is given only for a resend.", field="resend_cost")
        case.status = Status.ACCEPTED
        case.answered_at = case.updated_at = timezone.now()
        case.save()
        record_after_sales_money(
            order,
            vendor_credit=case.vendor_credit or Decimal("0"),
            resend_cost=case.resend_cost or Decimal("0"),
        )
        _record(order, case, by, OrderEvent.Kind.AFTER_SALES_ACCEPTED, details)
        if by.party.vendor_id is not None:
            messages.queue_case_answered(case, "accepted")
    return case


def reject_case(case_id: int, *, by: Actor, reason: str) -> AfterSalesCase:
    """The handler rejects the case, with a reason: Open → Rejected. Its units are free again.

    The merchant is emailed. Raises CaseNotFound, CaseStatusRefused, InvalidCase, NotAllowed.
    """
    ensure_can(by, Permission.ANSWER_AFTER_SALES)
    reason = _checked_text(reason, "Say why the case is rejected.", "reason", MAX_REASON_LENGTH)
    with transaction.atomic():
        order, case = _lock_case(case_id, by)
        _ensure_handler(case, by, "reject")
        _ensure_move(case, Status.REJECTED, "rejected")
        case.status = Status.REJECTED
        case.reject_reason = reason
        case.answered_at = case.updated_at = timezone.now()
        case.save(update_fields=["status", "reject_reason", "answered_at", "updated_at"])
        _record(order, case, by, OrderEvent.Kind.AFTER_SALES_REJECTED, [f"Reason: {reason}"])
        if by.party.vendor_id is not None:
            messages.queue_case_answered(case, "rejected")
    return case


def record_refund(case_id: int, *, by: Actor, amount: Decimal | str) -> AfterSalesCase:
    """Record the merchant's refund to the customer on an accepted case (once per case).

    At most what the customer paid less the order's earlier refunds. Raises CaseNotFound,
    CaseStatusRefused, InvalidCase, NotAllowed.
    """
    ensure_can(by, Permission.MANAGE_AFTER_SALES)
    _ensure_merchant_side(by, "record a refund")
    amount = _amount(amount, "refund", "amount")
    if amount <= 0:
        raise InvalidCase("Enter the amount refunded to the customer.", field="amount")
    with transaction.atomic():
        order, case = _lock_case(case_id, by)
        if case.status != Status.ACCEPTED:
            raise CaseStatusRefused(
                f"Case #{case.pk} is {case.get_status_display().lower()}; a refund is recorded on an accepted case.",
                field="amount",
            )
        if case.customer_refund is not None:
            raise CaseStatusRefused(f"Case #{case.pk} already has its refund recorded.", field="amount")
        paid, refunded = paid_by_customer(order), order.refunded_total
        left = paid - refunded
        if amount > left:
            raise InvalidCase(
                f"At most {format_money(max(left, Decimal('0')), order.currency)} can be refunded: "
                f"the customer paid {format_money(paid, order.currency)}"
                f" and {format_money(refunded, order.currency)} was refunded before.",
                field="amount",
            )
        case.customer_refund = amount
        case.refunded_at = case.updated_at = timezone.now()
        case.save(update_fields=["customer_refund", "refunded_at", "updated_at"])
        record_after_sales_money(order, refunded=amount)
        _record(
            order,
            case,
            by,
            OrderEvent.Kind.AFTER_SALES_REFUNDED,
            [f"Refund {format_money(amount, order.currency)}"],
        )
    return case


def resolve_case(case_id: int, *, by: Actor, tell_customer: bool = False) -> AfterSalesCase:
    """The merchant marks an accepted case resolved: Accepted → Resolved.

    With `tell_customer` the customer gets an SMS and email (their page shows a resend's tracking).
    Raises CaseNotFound, CaseStatusRefused, NotAllowed.
    """
    ensure_can(by, Permission.MANAGE_AFTER_SALES)
    _ensure_merchant_side(by, "resolve a case")
    with transaction.atomic():
        order, case = _lock_case(case_id, by)
        _ensure_move(case, Status.RESOLVED, "resolved")
        case.status = Status.RESOLVED
        case.resolved_at = case.updated_at = timezone.now()
        queued = messages.queue_case_resolved(case) if tell_customer else []
        case.customer_told = bool(queued)
        case.save(update_fields=["status", "resolved_at", "updated_at", "customer_told"])
        details = [f"Customer told by {', '.join(n.get_channel_display() for n in queued)}"] if queued else []
        _record(order, case, by, OrderEvent.Kind.AFTER_SALES_RESOLVED, details)
    return case


def close_case(case_id: int, *, by: Actor, note: str = "") -> AfterSalesCase:
    """The merchant closes the case at any time before it is resolved. A case closed with no
    outcome (no resend, refund or credit) frees its units. Raises CaseNotFound,
    CaseStatusRefused, InvalidCase, NotAllowed."""
    ensure_can(by, Permission.MANAGE_AFTER_SALES)
    _ensure_merchant_side(by, "close a case")
    note = (note or "").strip()
    if len(note) > MAX_REASON_LENGTH:
        raise InvalidCase(f"The note has at most {MAX_REASON_LENGTH:,} characters.", field="note")
    _ensure_printable(note, "note")
    with transaction.atomic():
        order, case = _lock_case(case_id, by)
        _ensure_move(case, Status.CLOSED, "closed")
        case.status = Status.CLOSED
        case.close_note = note
        case.closed_at = case.updated_at = timezone.now()
        case.save(update_fields=["status", "close_note", "closed_at", "updated_at"])
        _record(order, case, by, OrderEvent.Kind.AFTER_SALES_CLOSED, [f"Note: {note}"] if note else [])
        if case.vendor_id is not None:
            messages.queue_case_message_to_vendor(case, event=f"closed:{case.pk}")
    return case


def add_case_message(case_id: int, *, by: Actor, text: str, photos: Sequence = ()) -> CaseMessage:
    """A message in the case's thread, from the merchant's side or the case's vendor, with photos.

    The other side is emailed. Raises CaseNotFound, CaseStatusRefused (closed or resolved),
    InvalidCase, PhotoRefused, NotAllowed.
    """
    ensure_can(by, Permission.VIEW_AFTER_SALES)
    from_vendor = by.party.vendor_id is not None
    ensure_can(by, Permission.ANSWER_AFTER_SALES if from_vendor else Permission.MANAGE_AFTER_SALES)
    text = (text or "").strip()
    _ensure_printable(text, "message")
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidCase(f"A message has at most {MAX_TEXT_LENGTH:,} characters.", field="text")
    prepared = prepare_photos(photos)
    if not text and not prepared:
        raise InvalidCase("Write a message or attach a photo.", field="text")
    stored_photos = []
    try:
        with transaction.atomic():
            order, case = _lock_case(case_id, by)
            if case.status in (Status.RESOLVED, Status.CLOSED):
                raise CaseStatusRefused(
                    f"Case #{case.pk} is {case.get_status_display().lower()}; its thread is closed.",
                    field="text",
                )
            stored_photos = store_photos(prepared, merchant=order.merchant, uploaded_by=by.user)
            message = CaseMessage.objects.create(
                merchant_id=order.merchant_id,
                case=case,
                author=by.user,
                author_name=by.display_name,
                by_vendor=from_vendor,
                text=text,
            )
            if stored_photos:
                message.photos.set(stored_photos)
            case.updated_at = message.created_at
            case.save(update_fields=["updated_at"])
            shown = text if len(text) <= 120 else text[:119] + "…"
            details = [shown] if shown else []
            if stored_photos:
                details.append(f"{len(stored_photos)} photo{'s' if len(stored_photos) != 1 else ''}")
            _record(order, case, by, OrderEvent.Kind.AFTER_SALES_MESSAGE, details)
            if from_vendor:
                messages.queue_case_answered(case, f"message:{message.pk}")
            elif case.vendor_id is not None:
                messages.queue_case_message_to_vendor(case, event=f"message:{message.pk}")
    except BaseException:
        delete_photo_files(stored_photos)
        raise
    return message


def paid_by_customer(order: Order) -> Decimal:
    """What the customer paid: the order's total once paid (or cash on delivery confirmed)."""
    return Decimal("0") if order.payment_status == Order.PaymentStatus.UNPAID else order.total


# --- the pieces the steps share -------------------------------------------------------


def _lock_order(order_id, by: Actor) -> Order:
    """The order, its lines and its shipments, then its cases, locked in the project's one order."""
    try:
        order = (
            Order.objects.for_merchant(by.merchant)
            .select_for_update()
            .select_related("merchant")
            .get(pk=order_id)
        )
    except (Order.DoesNotExist, ValueError, TypeError) as missing:
        raise OrderNotFound() from missing
    list(OrderLine.objects.select_for_update().filter(order_id=order.pk).order_by("pk").values_list("pk"))
    list(Fulfillment.objects.select_for_update().filter(order_id=order.pk).order_by("pk").values_list("pk"))
    list(
        AfterSalesCase.objects.select_for_update().filter(order_id=order.pk).order_by("pk").values_list("pk")
    )
    return order


def _lock_case(case_id, by: Actor) -> tuple[Order, AfterSalesCase]:
    """The case's order locked first (with its lines, shipments and cases), then the case as the
    actor may see it: another merchant's or another vendor's case is CaseNotFound."""
    try:
        order_id = cases_seen_by(by).values_list("order_id", flat=True).get(pk=case_id)
    except (AfterSalesCase.DoesNotExist, ValueError, TypeError) as missing:
        raise CaseNotFound() from missing
    order = _lock_order(order_id, by)
    case = AfterSalesCase.objects.select_related("vendor").get(pk=case_id)
    case.order = order
    return order, case


def _ensure_merchant_side(by: Actor, what: str) -> None:
    if by.party.vendor_id is not None:
        raise CaseStatusRefused(f"Only the shop can {what}.")


def _ensure_handler(case: AfterSalesCase, by: Actor, verb: str) -> None:
    """The case's vendor answers its case; the merchant's side answers cases of its own lines."""
    if case.vendor_id != by.party.vendor_id:
        who = case.vendor.name if case.vendor_id else "the shop"
        raise CaseStatusRefused(f"Case #{case.pk} is answered by {who}; you cannot {verb} it.")


_NOT_NOW = {
    Status.OPEN: "is still open",
    Status.ACCEPTED: "was already accepted",
    Status.REJECTED: "was rejected",
    Status.RESOLVED: "was already resolved",
    Status.CLOSED: "was closed",
}


def _ensure_move(case: AfterSalesCase, to: str, done: str) -> None:
    if to not in CASE_TRANSITIONS[case.status]:
        raise CaseStatusRefused(f"Case #{case.pk} {_NOT_NOW[case.status]}, so it cannot be {done}.")


def _record(order: Order, case: AfterSalesCase, by: Actor, kind: str, details: list[str]) -> None:
    events.record_after_sales_step(order, by=by, kind=kind, case_id=case.pk, details=details)


def _wanted_units(lines: Sequence[CaseLineInput]) -> dict[int, int]:
    wanted: dict[int, int] = {}
    for entry in lines or ():
        quantity = entry.quantity
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            raise InvalidCase("Quantities are whole numbers of at least 1.", field="lines")
        if quantity:
            wanted[entry.order_line_id] = wanted.get(entry.order_line_id, 0) + quantity
    if not wanted:
        raise InvalidCase("Choose at least one product and how many.", field="lines")
    return wanted


def _split_by_shipper(wanted: dict[int, int], claimable: dict) -> dict[int | None, dict[int, int]]:
    """{shipper: {order line: units}}: each line's units taken from its shippers (vendors first,
    the merchant last; see queries.shipped_units), never more than each shipped and not yet in a case."""
    split: dict[int | None, dict[int, int]] = {}
    for line_id, quantity in wanted.items():
        line = claimable.get(line_id)
        if line is None:
            raise InvalidCase("That product is not part of this order.", field="lines")
        if quantity > line.claimable:
            raise InvalidCase(
                f"{line.title}: {quantity} cannot be claimed; {line.shipped} "
                f"{'was' if line.shipped == 1 else 'were'} shipped and {line.in_cases} "
                f"{'is' if line.in_cases == 1 else 'are'} in earlier cases.",
                field="lines",
            )
        left = quantity
        for shipper, free in line.free_by_shipper.items():
            take = min(left, free)
            if take:
                split.setdefault(shipper, {})[line_id] = take
                left -= take
    return split


def _vendor_charges(order: Order, vendor_id: int | None, units: dict[int, int]) -> Decimal | None:
    """What the vendor charged for these units (its shipments' cost snapshots): the credit asked."""
    if vendor_id is None:
        return None
    costs = {}
    for entry in FulfillmentLine.objects.filter(
        fulfillment__order_id=order.pk, fulfillment__vendor_id=vendor_id, fulfillment__is_resend=False
    ).order_by("pk"):
        costs.setdefault(entry.order_line_id, (entry.unit_cost, entry.shipping_cost))
    total = Decimal("0")
    for line_id, quantity in units.items():
        unit_cost, shipping_cost = costs.get(line_id, (None, None))
        if unit_cost is None:
            return None
        total += (unit_cost + (shipping_cost or Decimal("0"))) * quantity
    return total


def _ensure_printable(text: str, what: str, field: str | None = None) -> None:
    if "\x00" in (text or ""):
        raise InvalidCase(f"The {what} contains a NUL character.", field=field or what)


def _checked_text(text: str, missing: str, field: str, limit: int = MAX_TEXT_LENGTH) -> str:
    text = (text or "").strip()
    _ensure_printable(text, field, field)
    if not text:
        raise InvalidCase(missing, field=field)
    if len(text) > limit:
        raise InvalidCase(f"Write at most {limit:,} characters.", field=field)
    return text


def _amount(value, what: str, field: str) -> Decimal:
    if isinstance(value, float):
        raise InvalidCase(f"The {what} must be given as an exact amount, not a float.", field=field)
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, TypeError, ValueError) as refusal:
        raise InvalidCase(f"The {what} “{value}” is not an amount.", field=field) from refusal
    if not amount.is_finite() or amount < 0:
        raise InvalidCase(f"The {what} must be zero or more.", field=field)
    if amount != amount.quantize(CENT):
        raise InvalidCase(f"The {what} has more than two decimal places.", field=field)
    if amount >= MONEY_LIMIT:
        raise InvalidCase(f"The {what} is too large.", field=field)
    return amount.quantize(CENT)
