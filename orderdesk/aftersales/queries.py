"""The read side of after-sales: cases an actor may see, what an order still has to claim,
and the money cases add to an order counted from the cases (the order row keeps the same).

A vendor party sees only its vendor's cases; a merchant party sees all of its merchant's.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, IntegerField, Q, QuerySet, Sum, Value, When

from orderdesk.accounts.actors import Actor
from orderdesk.fulfillment.models import FulfillmentLine
from orderdesk.orders.models import Order
from orderdesk.vendors.models import Vendor

from .models import LIVE, AfterSalesCase, CaseLine

ZERO = Decimal("0")


def cases_seen_by(actor: Actor) -> QuerySet[AfterSalesCase]:
    """The cases this actor may see: its merchant's, and only its own vendor's for a vendor."""
    cases = AfterSalesCase.objects.for_merchant(actor.merchant)
    if actor.party.vendor_id is not None:
        cases = cases.filter(vendor_id=actor.party.vendor_id)
    return cases


def after_sales_list(actor: Actor, *, live_only: bool = False, limit: int = 200) -> list[AfterSalesCase]:
    """Order Tracking's After-sales view (and a vendor's list): open and accepted cases first,
    oldest first (they have waited longest), then the rest, newest first."""
    cases = cases_seen_by(actor)
    if live_only:
        cases = cases.filter(status__in=LIVE)
    cases = cases.annotate(
        waiting=Case(When(status__in=LIVE, then=Value(0)), default=Value(1), output_field=IntegerField())
    )
    live = list(
        cases.filter(waiting=0).select_related("order", "vendor").order_by("created_at", "id")[:limit]
    )
    done = list(
        cases.filter(waiting=1)
        .select_related("order", "vendor")
        .order_by("-created_at", "-id")[: max(0, limit - len(live))]
    )
    return live + done


def case_for_page(actor: Actor, case_id) -> AfterSalesCase:
    """One case with what its page shows; AfterSalesCase.DoesNotExist outside the actor's sight."""
    return (
        cases_seen_by(actor)
        .select_related("order", "vendor", "resend_shipment")
        .prefetch_related("lines__order_line", "photos", "messages__photos")
        .get(pk=case_id)
    )


def cases_of_order(actor: Actor, order_id: int) -> list[AfterSalesCase]:
    """The order's cases the actor may see, newest first (one query)."""
    return list(cases_seen_by(actor).filter(order_id=order_id).select_related("vendor"))


def holding(prefix: str = "") -> Q:
    """Cases that hold their units: all but rejected ones and ones closed with no outcome, whose
    units the merchant may claim again (with better proof, or from someone else). `prefix` is
    the path to the case ("case__" from its lines)."""
    no_outcome = Q(
        **{
            f"{prefix}resend_shipment__isnull": True,
            f"{prefix}customer_refund__isnull": True,
            f"{prefix}vendor_credit__isnull": True,
        }
    )
    rejected = Q(**{f"{prefix}status": AfterSalesCase.Status.REJECTED})
    closed = Q(**{f"{prefix}status": AfterSalesCase.Status.CLOSED})
    return ~rejected & ~(closed & no_outcome)


@dataclass
class ClaimableLine:
    """One order line as the case form shows it: how many were shipped, by whom, and how many
    are still free of earlier cases."""

    order_line_id: int
    title: str
    variant_title: str
    sku: str
    ordered: int
    shipped: int
    in_cases: int
    # Shipper (vendor id or None) → units shipped by it not in a case yet: vendors first, the merchant last.
    free_by_shipper: dict[int | None, int]
    shipper_names: list[str]

    @property
    def claimable(self) -> int:
        return sum(self.free_by_shipper.values())


def shipped_units(order_id: int) -> dict[tuple[int, int | None], int]:
    """{(order line, shipper vendor or None): units} in the order's own shipments that have left
    (handed to the carrier at some point); resends are not counted. Vendors come first (by id),
    the merchant's own last, on every database: a claim is taken from them in this order."""
    rows = (
        FulfillmentLine.objects.filter(
            fulfillment__order_id=order_id,
            fulfillment__is_resend=False,
            fulfillment__shipped_at__isnull=False,
        )
        .values("order_line_id", "fulfillment__vendor_id")
        .annotate(units=Sum("quantity"))
        .order_by()
    )
    found = {(row["order_line_id"], row["fulfillment__vendor_id"]): row["units"] for row in rows}
    return dict(sorted(found.items(), key=lambda item: (item[0][0], item[0][1] is None, item[0][1] or 0)))


def units_in_cases(order_id: int) -> dict[tuple[int, int | None], int]:
    """{(order line, case's vendor or None): units} held by the order's cases (see `holding`)."""
    rows = (
        CaseLine.objects.filter(case__order_id=order_id)
        .filter(holding("case__"))
        .values("order_line_id", "case__vendor_id")
        .annotate(units=Sum("quantity"))
        .order_by()
    )
    return {(row["order_line_id"], row["case__vendor_id"]): row["units"] for row in rows}


def claimable_lines(order: Order) -> list[ClaimableLine]:
    """Each line of the order with its units shipped and still free of cases (for the form and
    for open_cases, which asks again under the order's lock)."""
    shipped = shipped_units(order.pk)
    held = units_in_cases(order.pk)
    vendor_names = _vendor_names({vendor for _, vendor in shipped if vendor is not None}, order)
    lines = []
    for line in order.lines.all():
        free: dict[int | None, int] = {}
        names = []
        shipped_total = in_cases = 0
        for (line_id, vendor_id), units in shipped.items():
            if line_id != line.pk:
                continue
            shipped_total += units
            taken = held.get((line_id, vendor_id), 0)
            in_cases += taken
            free[vendor_id] = max(0, units - taken)
            names.append(vendor_names.get(vendor_id, "a vendor") if vendor_id else "you")
        lines.append(
            ClaimableLine(
                order_line_id=line.pk,
                title=line.title,
                variant_title=line.variant_title,
                sku=line.sku,
                ordered=line.quantity,
                shipped=shipped_total,
                in_cases=in_cases,
                free_by_shipper=free,
                shipper_names=names,
            )
        )
    return lines


def _vendor_names(vendor_ids: set[int], order: Order) -> dict[int, str]:
    if not vendor_ids:
        return {}
    return dict(
        Vendor.objects.for_merchant(order.merchant_id).filter(pk__in=vendor_ids).values_list("pk", "name")
    )


@dataclass(frozen=True)
class CaseMoney:
    """What an order's after-sales cases add to its margin, in the merchant's currency.

    margin = sales − shipment costs − resend_costs − customer_refunds + vendor_credits.
    A resend's lines carry no unit cost (FulfillmentLine.unit_cost = 0): its cost is here.
    """

    customer_refunds: Decimal = ZERO
    vendor_credits: Decimal = ZERO
    resend_costs: Decimal = ZERO
    cases: int = 0
    open_cases: int = 0

    @property
    def net_cost(self) -> Decimal:
        """What after-sales cost the merchant on the order: refunds and resends, less credits."""
        return self.customer_refunds + self.resend_costs - self.vendor_credits


def costs_and_refunds(order_ids) -> dict[int, CaseMoney]:
    """{order id: CaseMoney} for these orders (one query; orders with no case are left out).

    The recount from the cases of what each order row keeps (Order.after_sales_case_count,
    refunded_total, vendor_credit_total, resend_cost_total; see orders.after_sales_money), which
    the pages and the refund bound read: the tests hold the two equal. Callers scope
    `order_ids` to their merchant first.
    """
    rows = (
        AfterSalesCase.objects.filter(order_id__in=list(order_ids))
        .values("order_id")
        .annotate(
            refunds=Sum("customer_refund"),
            credits=Sum("vendor_credit"),
            resends=Sum("resend_cost"),
            cases=Sum(Value(1)),
            live=Sum(Case(When(status__in=LIVE, then=Value(1)), default=Value(0))),
        )
        .order_by()
    )
    return {
        row["order_id"]: CaseMoney(
            customer_refunds=row["refunds"] or ZERO,
            vendor_credits=row["credits"] or ZERO,
            resend_costs=row["resends"] or ZERO,
            cases=row["cases"] or 0,
            open_cases=row["live"] or 0,
        )
        for row in rows
    }
