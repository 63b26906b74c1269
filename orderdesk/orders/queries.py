"""The read side of orders: tenant-scoped querysets for Order Tracking and the order page."""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.db import connections, router
from django.db.models import (
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from orderdesk.accounts.models import Merchant
from orderdesk.compiled_queries import CompiledOnce
from orderdesk.customers.phones import normalize_phone
from orderdesk.fulfillment.models import Fulfillment, FulfillmentLine, TrackingEvent

from .models import LATE_STATUSES, Order, OrderEvent, OrderLine, OrderStatusCount

TRACKING_TABS = [
    Order.Status.PENDING,
    Order.Status.DISPATCHED,
    Order.Status.FULFILLED,
    Order.Status.CANCELLED,
]


def orders_in_tab(merchant, status: str) -> QuerySet[Order]:
    """One Order Tracking tab, newest first (served by the order_tracking_tab_covering index)."""
    return Order.objects.for_merchant(merchant).filter(status=status).order_by("-placed_at", "-id")


# Counting every match of a common name would scan tens of thousands of rows per tab.
SEARCH_COUNT_CAP = 100


class MatchCount(int):
    """How many orders of one tab match a search, counted no further than SEARCH_COUNT_CAP:
    a capped count reads "100+" wherever it is shown."""

    capped: bool

    def __new__(cls, value: int, *, capped: bool = False) -> MatchCount:
        count = super().__new__(cls, value)
        count.capped = capped
        return count

    def __str__(self) -> str:
        return f"{int(self)}+" if self.capped else int.__repr__(self)

    __repr__ = __str__


@dataclass(frozen=True)
class Search:
    """What the merchant typed, worked out once for the page and its tab counts: the orders'
    filter, and the orders a whole reference or phone number found (None when it was not one):
    their ids and how many of them each status holds."""

    text: str
    match: Q
    ids: tuple[int, ...] | None = None
    found_by_status: dict[str, int] | None = None

    @classmethod
    def of(cls, merchant, text: str) -> Search:
        text = (text or "").strip()
        if not text:
            return cls(text, Q())
        found = _whole_reference_or_phone(merchant, text)
        if found is None:
            return cls(text, _partial_match(text))
        if len(found) > _EXACT_MATCH_LIMIT:  # only a phone number repeats
            return cls(text, Q(customer_phone=normalize_phone(text)))
        ids = tuple(order_id for order_id, _ in found)
        return cls(text, Q(pk__in=ids), ids, dict(Counter(status for _, status in found)))


def tab_counts(merchant, search: str | Search = "") -> dict[str, int]:
    """How many orders each Order Tracking tab holds, and how many await payment
    (of those matching the search, if any: counted up to SEARCH_COUNT_CAP per tab)."""
    statuses = [*TRACKING_TABS, Order.Status.AWAITING_PAYMENT]
    counts = dict.fromkeys(statuses, 0)
    if not isinstance(search, Search):
        search = Search.of(merchant, search)
    if search.text:
        if search.found_by_status is not None:
            # The orders a whole reference or phone number found were read with their status.
            found = search.found_by_status
        else:
            found = _capped_matches_by_status(merchant, search.match, statuses)
        for status in statuses:
            count = found.get(status, 0)
            counts[status] = MatchCount(min(count, SEARCH_COUNT_CAP), capped=count > SEARCH_COUNT_CAP)
        return counts
    # Kept by the order actions, so a million orders are not counted on every page.
    if merchant is not None:
        using = router.db_for_read(OrderStatusCount)
        counts.update(_tab_counts_of_merchant(getattr(merchant, "pk", merchant), using=using))
    return counts


# Compiled once (on every page of the list the ORM built and compiled it afresh), prepared on PostgreSQL.
_tab_counts_of_merchant = CompiledOnce(
    lambda merchant_id: OrderStatusCount.objects.filter(merchant_id=merchant_id).values_list(
        "status", "count"
    ),
    987654321989,  # an id no merchant has
    prepared=True,
)


# Stands for the status in the one compiled branch of the capped counts; no search makes it.
_ANY_STATUS = "\x00any status"


def _capped_matches_by_status(merchant, match: Q, statuses: list[str]) -> dict[str, int]:
    """How many orders of each status match, each counted no further than SEARCH_COUNT_CAP + 1,
    in one statement: per status a COUNT over a LIMITed walk of its tab, joined by UNION ALL.

    Each walk reads the tab's index alone on PostgreSQL (order_tracking_tab_covering holds the
    searched columns), however common the name. The walk is compiled by the ORM once and
    repeated with each status; the LIMIT sits in a subquery, which SQLite accepts too (it
    refuses one inside a UNION's own SELECTs)."""
    if merchant is None:
        return {}
    walk = (
        Order.objects.for_merchant(merchant)
        .filter(match, status=_ANY_STATUS)
        # In the tab's order: PostgreSQL walks the tab's index, never the table, even in the
        # Fulfilled tab that holds most orders.
        .order_by("-placed_at", "-id")
        .values("pk")
    )
    using = walk.db
    sql, params = walk[: SEARCH_COUNT_CAP + 1].query.get_compiler(using).as_sql()
    if params.count(_ANY_STATUS) != 1:
        raise ValueError(f"The capped count's walk must take its status once: {params!r}")
    at = params.index(_ANY_STATUS)
    # Each count labelled with its status (typed: a bare parameter has no type for PostgreSQL).
    each = "SELECT CAST(%s AS VARCHAR(20)), COUNT(*) FROM ({}) capped_{}"
    statement = " UNION ALL ".join(each.format(sql, n) for n in range(len(statuses)))
    with connections[using].cursor() as cursor:
        cursor.execute(
            statement,
            [value for status in statuses for value in (status, *params[:at], status, *params[at + 1 :])],
        )
        return dict(cursor.fetchall())


# An id no order has: the one parameter of the order page's queries compiled once (below).
_ANY_ORDER_ID = 987654321987


def _compiled_once(build):
    """One of the order page's reads whose only parameter is the order's id, compiled once."""
    return CompiledOnce(build, _ANY_ORDER_ID, prepared=True)


@_compiled_once
def _lines_of_order(order_id):
    return OrderLine.objects.filter(order_id=order_id).order_by("id")


@_compiled_once
def _timeline_of_order(order_id):
    # The timeline shows actor_name, kept on the event: no join to the user.
    return OrderEvent.objects.filter(order_id=order_id).order_by("created_at", "id")


@_compiled_once
def _shipment_lines_of_order(order_id):
    return FulfillmentLine.objects.filter(fulfillment__order_id=order_id).order_by("id")


@_compiled_once
def _tracking_events_of_order(order_id):
    return TrackingEvent.objects.filter(fulfillment__order_id=order_id).order_by("occurred_at", "id")


def _keep_prefetched(instance, name: str, objects: list) -> None:
    """Make instance.<name>.all() answer with `objects`, as prefetch_related leaves it."""
    related = getattr(instance, name).get_queryset()
    related._result_cache, related._prefetch_done = objects, True
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    instance._prefetched_objects_cache[name] = related


# The order page's two joined reads, compiled once (their building and compiling by the ORM cost
# more CPU than running them) and prepared on PostgreSQL: the order among the merchant's, with its store and store link.
_order_of_merchant = CompiledOnce(
    lambda merchant_id, order_id: (
        Order.objects.filter(merchant_id=merchant_id, pk=order_id)
        # store_link: a store's change flagged on the order (a banner), in the same query.
        .select_related("store", "store_link")
        .order_by()
    ),
    _ANY_ORDER_ID + 1,
    _ANY_ORDER_ID,
    prepared=True,
)
# Its shipments with their vendor; photos are read only for the shipments that have some.
_shipments_of_order = CompiledOnce(
    lambda order_id: (
        Fulfillment.objects.filter(order_id=order_id)
        .select_related("vendor")
        .annotate(has_photos=Exists(Fulfillment.photos.through.objects.filter(fulfillment_id=OuterRef("pk"))))
    ),
    _ANY_ORDER_ID,
    prepared=True,
)


def order_for_page(merchant, order_id) -> Order:
    """One order with everything its page shows; Order.DoesNotExist outside the merchant."""
    if merchant is None:
        raise Order.DoesNotExist("No merchant.")
    using = router.db_for_read(Order)
    try:
        order_id = int(order_id)
    except (TypeError, ValueError) as wrong:
        raise Order.DoesNotExist("No such order.") from wrong
    if not 0 < order_id < 2**63:  # as the ORM's lookup, an id no column holds finds nothing
        raise Order.DoesNotExist("No such order.")
    found = _order_of_merchant(getattr(merchant, "pk", merchant), order_id, using=using)
    if not found:
        raise Order.DoesNotExist("No such order.")
    [order] = found
    shipments = _shipments_of_order(order.pk, using=using)
    for shipment in shipments:
        shipment.order = order
    _keep_prefetched(order, "fulfillments", shipments)
    # The merchant is known: not joined again.
    if isinstance(merchant, Merchant):
        order.merchant = merchant
    # The rest is the order's own (it is the merchant's, read above), each read by the order's id.
    lines = _lines_of_order(order.pk, using=using)
    events = _timeline_of_order(order.pk, using=using)
    for row in (*lines, *events):
        row.order = order
    _keep_prefetched(order, "lines", lines)
    _keep_prefetched(order, "events", events)
    shipments = {shipment.pk: shipment for shipment in order.fulfillments.all()}
    entries = {pk: [] for pk in shipments}
    tracking = {pk: [] for pk in shipments}
    if shipments:
        # Each shipment line's order line was just read with the order: not joined again (the
        # page renders faster without their columns).
        by_id = {line.pk: line for line in lines}
        for entry in _shipment_lines_of_order(order.pk, using=using):
            entry.fulfillment = shipments[entry.fulfillment_id]
            entry.order_line = by_id[entry.order_line_id]
            entries[entry.fulfillment_id].append(entry)
        for event in _tracking_events_of_order(order.pk, using=using):
            event.fulfillment = shipments[event.fulfillment_id]
            tracking[event.fulfillment_id].append(event)
    for pk, shipment in shipments.items():
        _keep_prefetched(shipment, "lines", entries[pk])
        _keep_prefetched(shipment, "tracking_events", tracking[pk])
    # A vendor's shipment has no dispatch photos: the page keeps its queries without them.
    with_photos = [shipment for shipment in order.fulfillments.all() if shipment.has_photos]
    if with_photos:
        prefetch_related_objects(with_photos, "photos")
    return order


PAGE_SIZE = 20
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MICROSECOND = datetime.timedelta(microseconds=1)


@dataclass(frozen=True)
class TrackingPage:
    """One page of an Order Tracking tab and the cursor of the next page (None on the last)."""

    orders: list[TrackingRow]
    next_cursor: str | None


class TrackingRow(NamedTuple):
    """One order of an Order Tracking page as plain values, a tuple: the order's own columns
    (_ROW_FIELDS), the store's flagged change (or ""), what its vendors charge (`vendor_cost`,
    None unless asked for), its `lines` as (quantity, title, variant_title, unit_price) and the
    merchant. `is_late` and `after_sales_cost` are the order's own rules."""

    id: int
    reference: str
    status: str
    customer_name: str
    customer_phone: str
    shipping_address: str
    currency: str
    total: Decimal
    payment_method: str
    payment_status: str
    shipping_option: str
    processing_days: int
    due_on: datetime.date | None
    placed_at: datetime.datetime
    dispatched_at: datetime.datetime | None
    fulfilled_at: datetime.datetime | None
    cancelled_at: datetime.datetime | None
    refunded_total: Decimal
    vendor_credit_total: Decimal
    resend_cost_total: Decimal
    flagged_store_change: str
    vendor_cost: Decimal | None
    lines: list
    merchant: Merchant

    is_late = Order.is_late
    after_sales_cost = Order.after_sales_cost

    @property
    def pk(self) -> int:
        return self.id


# The order's own columns of a row, read as plain values (tracking_rows.RowMaker writes the row):
# a page of model instances and their prefetched lines was most of the list's CPU.
_ROW_FIELDS = TrackingRow._fields[: TrackingRow._fields.index("flagged_store_change")]


def _tracking_rows(values: list[tuple], merchant, *, with_costs: bool, using: str) -> list[TrackingRow]:
    """The page's rows (each the columns of _ROW_FIELDS, the flagged change, and the vendors' cost
    when asked for) with their lines, read in one more query."""
    lines_of = {value[0]: [] for value in values}
    if lines_of:
        # The lines of the page's orders in the order they were recorded.
        for order_id, *line in _lines_of_orders(len(lines_of))(*lines_of, using=using):
            lines_of[order_id].append(line)
    flagged_at = len(_ROW_FIELDS)
    make = TrackingRow._make
    if with_costs:
        return [make((*value[:flagged_at], value[flagged_at] or "", value[flagged_at + 1], lines_of[value[0]], merchant)) for value in values]  # fmt: skip
    return [make((*value[:flagged_at], value[flagged_at] or "", None, lines_of[value[0]], merchant)) for value in values]  # fmt: skip


def _lines_of_orders(count: int) -> CompiledOnce:
    """The read of `count` orders' lines, compiled once per count (at most a page's size)."""
    read = _LINES_OF_ORDERS.get(count)
    if read is None:
        read = _LINES_OF_ORDERS[count] = CompiledOnce(
            lambda *order_ids: (
                OrderLine.objects.filter(order_id__in=order_ids)
                .order_by("id")
                .values_list("order_id", "quantity", "title", "variant_title", "unit_price")
            ),
            *range(-count, 0),  # ids no order has
            prepared=True,
        )
    return read


_LINES_OF_ORDERS: dict[int, CompiledOnce] = {}


def matching_search(merchant, search: str) -> Q:
    """Orders whose reference, customer name or customer phone matches what the merchant typed.

    A whole reference or phone number finds just those orders through their indexes; only
    when it finds none does the search look inside references, names and numbers.
    """
    return Search.of(merchant, search).match


def _partial_match(text: str) -> Q:
    found = Q(reference__icontains=text) | Q(customer_name__icontains=text)
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 4:
        # Part of a number, as the merchant remembers it ("5550101").
        found |= Q(customer_phone__contains=digits)
    return found


# A repeat customer's phone can match many orders; past this many the ids are not listed.
_EXACT_MATCH_LIMIT = 1000


def _whole_reference_or_phone(merchant, text: str) -> list[tuple[int, str]] | None:
    """The id and status of each order whose whole reference or whole phone number is `text`
    (up to one past _EXACT_MATCH_LIMIT); None when there are none.

    Each column is looked up in its own index and the two joined by UNION: an OR of the two
    makes SQLite walk every order of the merchant.
    """
    mine = Order.objects.for_merchant(merchant)
    by_reference = mine.filter(reference__in={text, text.upper()}).values_list("id", "status")
    try:
        phone = normalize_phone(text)
    except ValueError:  # not a whole phone number; still a name or reference
        lookups = by_reference
    else:
        lookups = by_reference.union(mine.filter(customer_phone=phone).values_list("id", "status"))
    return list(lookups[: _EXACT_MATCH_LIMIT + 1]) or None


def order_tracking_page(
    merchant,
    *,
    status: str,
    search: str | Search = "",
    oldest_first: bool = False,
    after: str | None = None,
    size: int = PAGE_SIZE,
    with_costs: bool = False,
) -> TrackingPage:
    """A page of one tab, by placed time then id, continuing after a cursor (keyset, never OFFSET).

    A cursor that cannot be read starts from the first page.
    """
    if merchant is None:
        return TrackingPage(orders=[], next_cursor=None)
    merchant_id, using = getattr(merchant, "pk", merchant), router.db_for_read(Order)
    position = _read_cursor(after)
    # (placed_at, placed_at, placed_at, id): the cursor's time goes into three conditions.
    cursor = () if position is None else (position[0],) * 3 + (position[1],)
    search = search if isinstance(search, Search) else Search.of(merchant, search)
    if search.text:
        # A search's filter differs from one search to the next: built by the ORM each time.
        values = list(
            _tab_page_query(
                merchant_id,
                status,
                *cursor,
                oldest_first=oldest_first,
                with_costs=with_costs,
                size=size,
                match=search.match,
            )
        )
    else:
        shape = (oldest_first, bool(cursor), with_costs, size)
        read = _TAB_PAGES.get(shape)
        if read is None:
            read = _TAB_PAGES[shape] = CompiledOnce(
                lambda *arguments: _tab_page_query(
                    *arguments, oldest_first=oldest_first, with_costs=with_costs, size=size
                ),
                *(_TAB_PAGE_PLACEHOLDERS if cursor else _TAB_PAGE_PLACEHOLDERS[:2]),
                prepared=True,
            )
        # str(): a status given as Order.Status is passed to the database as its value.
        values = read(merchant_id, str(status), *cursor, using=using)
    # One row more than the page was read: whether there is a next page.
    rows = _tracking_rows(values[:size], merchant, with_costs=with_costs, using=using)
    if len(values) <= size:
        return TrackingPage(orders=rows, next_cursor=None)
    last = rows[-1]
    return TrackingPage(orders=rows, next_cursor=_write_cursor(last.placed_at, last.pk))


def _tab_page_query(
    merchant_id: int,
    status: str,
    *cursor,
    oldest_first: bool,
    with_costs: bool,
    size: int,
    match: Q | None = None,
) -> QuerySet:
    """A page of one tab (and one more row) as values: _ROW_FIELDS, the store's flagged change,
    and the vendors' cost `with_costs`; after `cursor` (placed_at three times, then the id) if
    given. Without a search it is compiled once per shape (_TAB_PAGES)."""
    # The merchant is known; joining it would lead SQLite's planner off the tab's index.
    orders = Order.objects.filter(merchant_id=merchant_id, status=status)
    if match is not None:
        orders = orders.filter(match)
    # A store's flagged change marks the row: joined (values through the link), no query per row.
    columns = [*_ROW_FIELDS, "store_link__flagged_change"]
    if with_costs:
        # What the order's vendors charge (the allocated lines' snapshots), for the margin column:
        # a correlated subquery run for the page's rows only, so no query of its own.
        orders = orders.annotate(vendor_cost=_VENDOR_COST)
        columns.append("vendor_cost")
    orders = orders.order_by("placed_at", "id") if oldest_first else orders.order_by("-placed_at", "-id")
    if cursor:
        bound, beyond, tied, order_id = cursor
        # The bound on placed_at alone is what the tab's index can seek to; without it PostgreSQL
        # reads the OR as a filter and walks every row before the cursor (700,000 of a million
        # orders deep in the Fulfilled tab). The OR then only breaks ties.
        if oldest_first:
            orders = orders.filter(
                Q(placed_at__gte=bound), Q(placed_at__gt=beyond) | Q(placed_at=tied, id__gt=order_id)
            )
        else:
            orders = orders.filter(
                Q(placed_at__lte=bound), Q(placed_at__lt=beyond) | Q(placed_at=tied, id__lt=order_id)
            )
    return orders.values_list(*columns)[: size + 1]


# Values no merchant, status, order or cursor has, one for each parameter of a tab's page.
_TAB_PAGE_PLACEHOLDERS = (
    987654321988,
    "no-status-is-called-this",
    datetime.datetime(1901, 2, 3, 4, 5, 6, 1, tzinfo=datetime.UTC),
    datetime.datetime(1901, 2, 3, 4, 5, 6, 2, tzinfo=datetime.UTC),
    datetime.datetime(1901, 2, 3, 4, 5, 6, 3, tzinfo=datetime.UTC),
    987654321987,
)
# A tab's page without a search, compiled once for each (oldest_first, after a cursor,
# with_costs, size): the ORM built and compiled it on every page, more CPU than running it.
_TAB_PAGES: dict[tuple, CompiledOnce] = {}


def _vendor_cost_of_order():
    """What the order's vendors charge: the ORM's form of _VENDOR_COST (the tests hold the two
    to the same figures)."""
    each = ExpressionWrapper(
        F("quantity") * (F("unit_cost") + Coalesce(F("shipping_cost"), Value(Decimal("0")))),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )
    return (
        FulfillmentLine.objects.filter(fulfillment__order_id=OuterRef("pk"), unit_cost__isnull=False)
        .order_by()
        .values("fulfillment__order_id")
        .annotate(cost=Sum(each))
        .values("cost")
    )


# The same subquery written once as SQL: built and compiled by the ORM it cost the list page
# as much CPU as reading its rows. NULL when no line of the order has a cost.
_VENDOR_COST = RawSQL(
    f'SELECT SUM(cost_line."quantity" * (cost_line."unit_cost" + COALESCE(cost_line."shipping_cost", 0))) '
    f'FROM "{FulfillmentLine._meta.db_table}" cost_line '
    f'INNER JOIN "{Fulfillment._meta.db_table}" cost_shipment ON cost_line."fulfillment_id" = cost_shipment."id" '
    f'WHERE cost_shipment."order_id" = "{Order._meta.db_table}"."id" AND cost_line."unit_cost" IS NOT NULL',
    (),
    output_field=DecimalField(max_digits=14, decimal_places=2),
)


def _write_cursor(placed_at: datetime.datetime, order_id: int) -> str:
    return f"{(placed_at - _EPOCH) // _MICROSECOND}.{order_id}"


def _read_cursor(cursor: str | None) -> tuple[datetime.datetime, int] | None:
    try:
        microseconds, order_id = (cursor or "").split(".")
        return _EPOCH + int(microseconds) * _MICROSECOND, int(order_id)
    except (ValueError, OverflowError):
        return None


def late_order_count(merchant, *, today: datetime.date | None = None) -> int:
    """How many orders are late by the rule of Order.is_late (today in the merchant's time zone),
    served by the order_due index."""
    today = today or timezone.localdate(timezone=merchant.zone)
    return Order.objects.for_merchant(merchant).filter(status__in=LATE_STATUSES, due_on__lt=today).count()
