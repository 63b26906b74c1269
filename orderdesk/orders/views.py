"""Order Tracking, the order page, and the Dispatch / Fulfill / Cancel forms.

Each view parses input with a form, calls one query or one action, and renders:
a partial template for htmx requests, the full page otherwise.
"""

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django_htmx.http import HttpResponseClientRedirect

from orderdesk.accounts.access import permission_required
from orderdesk.accounts.permissions import Permission, can
from orderdesk.compiled_queries import CompiledOnce
from orderdesk.errors import DomainError
from orderdesk.notifications.queries import notifications_about
from orderdesk.photos.actions import describe_limits
from orderdesk.refusals import UnreadableForm, show_refusal

from . import actions, queries
from .allocation_summary import order_margin, vendor_parts
from .errors import OrderNotFound, TransitionRefused
from .forms import CancelForm, DispatchForm, FulfillForm, TrackingFilterForm, VerifyPaymentForm
from .models import ORDER_TRANSITIONS, Order, can_move
from .order_page import order_page_parts
from .tracking_rows import RowMaker


@dataclass(frozen=True)
class OrderButton:
    """One action button on one order: what it says, how it looks, where it leads."""

    name: str
    label: str
    style: str
    opens_dialog: bool
    url: SafeString


# The button each status move gets, who may press it, in the order they are shown.
_BUTTONS = [
    (
        Order.Status.PENDING,
        Permission.VERIFY_PAYMENTS,
        "verify_payment",
        "Verify payment",
        "button button-primary",
        True,
    ),
    (
        Order.Status.DISPATCHED,
        Permission.DISPATCH_ORDERS,
        "dispatch",
        "Dispatch",
        "button button-primary",
        False,
    ),
    (Order.Status.FULFILLED, Permission.FULFILL_ORDERS, "fulfill", "Mark as fulfilled", "check-button", True),
    (
        Order.Status.CANCELLED,
        Permission.CANCEL_ORDERS,
        "cancel",
        "Cancel",
        "button button-danger-quiet",
        True,
    ),
]
# An id no real order has, reversed once and split, so a page of rows needs no reverse() per row.
_ANY_ID = 987654321987


def _allowed_buttons(actor, back_url: str) -> list[tuple]:
    """The buttons the actor's role allows, each (to, label, style, opens_dialog, url_start,
    url_end): an order's URL is url_start + its id + url_end, returning to back_url. The role is
    asked, and each URL reversed, once per page rather than once per row."""
    after = f"?{urlencode({'next': back_url})}" if back_url else ""
    made = []
    for to, permission, url_name, label, style, opens_dialog in _BUTTONS:
        if not can(actor, permission):
            continue
        url_start, url_end = _reversed(f"orders:{url_name}", _ANY_ID).split(str(_ANY_ID))
        made.append((to, label, style, opens_dialog, url_start, url_end + after))
    return made


def _buttons_maker(actor, back_url: str):
    """buttons(order): the order's buttons as ORDER_TRANSITIONS and the actor's role allow."""
    made = _allowed_buttons(actor, back_url)
    by_status = {
        status: [button for button in made if button[0] in moves]
        for status, moves in ORDER_TRANSITIONS.items()
    }

    def buttons(order: Order) -> list[OrderButton]:
        # Safe as they stand: reverse() and urlencode() leave nothing HTML would read as markup.
        return [
            OrderButton(to, label, style, opens_dialog, mark_safe(f"{url_start}{order.pk}{url_end}"))
            for to, label, style, opens_dialog, url_start, url_end in by_status[order.status]
        ]

    return buttons


def tracking_rows(
    request, orders: list[queries.TrackingRow], *, back_url: str, placeable: bool
) -> SafeString:
    """A page of Order Tracking's rows as HTML (see tracking_rows.py), for the list and "Show more"."""
    return RowMaker(
        buttons=_allowed_buttons(request.actor, back_url),
        transitions=ORDER_TRANSITIONS,
        detail_url_start=_detail_url_start(),
        today=timezone.localdate(timezone=request.merchant.zone),
        placeable=placeable,
    ).render(orders)


def _detail_url_start() -> str:
    return _reversed("orders:detail", _ANY_ID).split(str(_ANY_ID))[0]


@lru_cache(maxsize=64)
def _reversed_in(name: str, order_id: int | None, urlconf, prefix: str) -> str:
    return reverse(name, urlconf=urlconf, args=[] if order_id is None else [order_id])


def _reversed(name: str, order_id: int | None = None) -> str:
    """reverse() of one of the list's addresses, worked out once per process (per URL
    configuration and script prefix): the list asks for the same few on every page."""
    return _reversed_in(name, order_id, get_urlconf(), get_script_prefix())


@permission_required(Permission.VIEW_ORDERS)
def tracking(request):
    """Orders by status (Pending, Dispatched, Fulfilled, Cancelled), searched, sorted, a page at a time."""
    filters = TrackingFilterForm(request.GET)
    choice = filters.choice()
    # A whole reference or phone number is looked up once, for the page and the tab counts.
    search = queries.Search.of(request.merchant, choice["search"])
    page = queries.order_tracking_page(
        request.merchant,
        status=choice["status"],
        search=search,
        oldest_first=choice["sort"] == "oldest",
        after=choice["after"],
        with_costs=can(request.actor, Permission.VIEW_REPORTS),
    )
    # Manual processing: the Pending tab's rows can be ticked and placed with vendors.
    placeable = choice["status"] == Order.Status.PENDING and can(request.actor, Permission.PLACE_WITH_VENDORS)
    context = {
        "page": page,
        "rows": tracking_rows(request, page.orders, back_url=_tracking_url(choice), placeable=placeable),
        "choice": choice,
        "more_url": _tracking_url(choice, after=page.next_cursor),
        "placeable": placeable,
    }
    if request.htmx and choice["after"]:
        return render(request, "orders/_order_rows.html", context)
    counts = queries.tab_counts(request.merchant, search)
    context["tabs"] = [
        {
            "status": status,
            "label": status.label,
            "count": counts[status],
            "url": _tracking_url(choice, status=status),
            "current": status == choice["status"],
        }
        for status in queries.TRACKING_TABS
    ]
    context["current_label"] = Order.Status(choice["status"]).label
    # A shop with no order at all (a new one) is told how orders get in.
    context["no_orders_yet"] = not choice["search"] and not any(counts.values())
    context["awaiting_payment"] = {
        "label": Order.Status.AWAITING_PAYMENT.label,
        "count": counts[Order.Status.AWAITING_PAYMENT],
        "url": _tracking_url(choice, status=Order.Status.AWAITING_PAYMENT),
        "current": choice["status"] == Order.Status.AWAITING_PAYMENT,
    }
    template = "orders/_tracking.html" if request.htmx else "orders/tracking.html"
    return render(request, template, context)


# The order's messages (notifications_about), compiled by the ORM once per process.
_messages_about_order = CompiledOnce(
    lambda merchant_id, order_id: notifications_about(merchant_id, "order", order_id),
    987654321987,  # ids no merchant and no order have
    "987654321987",
    prepared=True,
)


@permission_required(Permission.VIEW_ORDERS)
def detail(request, order_id: int):
    """Everything about one order; another merchant's order is a 404."""
    try:
        order = queries.order_for_page(request.merchant, order_id)
    except Order.DoesNotExist as missing:
        raise Http404("No such order.") from missing
    _prepare_rows([order], request, back_url=request.get_full_path())
    context = {"order": order, "order_messages": _messages_about_order(order.merchant_id, str(order.pk))}
    context.update(_vendor_section(request, order))
    context["page"] = order_page_parts(
        order,
        show_costs=context["show_costs"],
        costs=context["costs"],
        merchant_shipments=context["merchant_shipments"],
    )
    return render(request, "orders/detail.html", context)


def _vendor_section(request, order: Order) -> dict:
    """The bottom of the order page: each vendor's part, costs and margin (owners see money figures)."""
    costs = vendor_parts(order)
    return {
        "costs": costs,
        "show_costs": can(request.actor, Permission.VIEW_REPORTS),
        # Whatever the order's status: each vendor part offers "Move items" while its shipment
        # has not gone to the carrier (pending or processing), as move_to_vendor allows.
        "can_move": can(request.actor, Permission.PLACE_WITH_VENDORS),
        "merchant_shipments": [s for s in order.fulfillments.all() if s.vendor_id is None],
    }


def _prepare_rows(orders: list[Order], request, *, back_url: str) -> None:
    """What each order's row needs, worked out once per page instead of once per row."""
    today = timezone.localdate(timezone=request.merchant.zone)
    buttons = _buttons_maker(request.actor, back_url)
    detail_url_start = _detail_url_start()
    for order in orders:
        order.url = mark_safe(f"{detail_url_start}{order.pk}/")
        order.buttons = buttons(order)
        order.today = today
        order.late = order.is_late(today)
        # The margin column (owners): the total less what the order's vendors charge and what
        # after-sales cost (kept on the order's row).
        vendor_cost = getattr(order, "vendor_cost", None)
        order.has_costs = vendor_cost is not None
        if order.has_costs:
            order.cost = vendor_cost + order.resend_cost_total
            order.margin = order_margin(order, vendor_cost)


@permission_required(Permission.DISPATCH_ORDERS)
def dispatch(request, order_id: int):
    """Pending → Dispatched with delivery reference, expected date, photos and a message."""
    today = timezone.localdate()
    if request.method == "POST":
        form = DispatchForm(request.POST, request.FILES, today=today)
        if request.unreadable_form:
            _refuse_unreadable_dispatch(form, request.unreadable_form)
        elif form.is_valid():
            # The action reads the order (locked) and says when it is not the merchant's.
            try:
                dispatched = actions.dispatch_order(
                    order_id,
                    by=request.actor,
                    delivery_reference=form.cleaned_data["delivery_reference"],
                    expected_on=form.cleaned_data["expected_on"],
                    photos=form.cleaned_data["photos"],
                    message=form.cleaned_data["message"],
                )
            except OrderNotFound as missing:
                raise Http404("No such order.") from missing
            except DomainError as refusal:
                # A stale dispatch page keeps what was typed beside the refusal (unlike a pop-up).
                show_refusal(form, refusal)
            else:
                messages.success(request, f"Order {dispatched.reference} is dispatched.")
                return _go(request, _next_url(request) or reverse("orders:detail", args=[dispatched.pk]))
        order = _order_or_404(request, order_id)
        status = 422
    else:
        order = _order_or_404(request, order_id)
        if not can_move(order, Order.Status.DISPATCHED):
            return _not_now(request, order, "dispatched")
        form = DispatchForm(today=today)
        status = 200
    context = {"order": order, "form": form, "next_url": _next_url(request)}
    template = "orders/_dispatch_form.html" if request.htmx else "orders/dispatch.html"
    return render(request, template, context, status=status)


@permission_required(Permission.VERIFY_PAYMENTS)
def verify_payment(request, order_id: int):
    """Awaiting payment → Pending, when the merchant has seen the money (or confirms COD)."""
    return _status_change(
        request,
        order_id,
        to=Order.Status.PENDING,
        form_class=VerifyPaymentForm,
        change=lambda order_id, data, by: actions.verify_payment(order_id, by=by),
        title="Verify payment",
        explanation=(
            "The customer's payment has arrived (or you confirm cash on delivery). The order "
            "moves to Pending, its due date is set, and you get the order SMS and email."
        ),
        done="is paid and pending",
    )


@permission_required(Permission.FULFILL_ORDERS)
def fulfill(request, order_id: int):
    """Dispatched → Fulfilled, with optional remarks, from the check-mark pop-up."""
    return _status_change(
        request,
        order_id,
        to=Order.Status.FULFILLED,
        form_class=FulfillForm,
        change=lambda order_id, data, by: actions.fulfill_order(order_id, by=by, remarks=data["remarks"]),
        title="Mark as fulfilled",
        explanation="The order was delivered to the customer. They hear of it by SMS and email.",
        done="is fulfilled",
    )


@permission_required(Permission.CANCEL_ORDERS)
def cancel(request, order_id: int):
    """Pending or Dispatched → Cancelled, with a reason."""
    return _status_change(
        request,
        order_id,
        to=Order.Status.CANCELLED,
        form_class=CancelForm,
        change=lambda order_id, data, by: actions.cancel_order(order_id, by=by, reason=data["reason"]),
        title="Cancel order",
        explanation="The customer is told the order is cancelled, with your reason.",
        done="is cancelled",
    )


def _status_change(request, order_id, *, to, form_class, change, title, explanation, done):
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            # The action reads the order (locked) and says when it is not the merchant's.
            try:
                changed = change(order_id, form.cleaned_data, request.actor)
            except OrderNotFound as missing:
                raise Http404("No such order.") from missing
            except TransitionRefused as refusal:
                return _changed_meanwhile(request, order_id, refusal)
            except DomainError as refusal:
                show_refusal(form, refusal)
            else:
                messages.success(request, f"Order {changed.reference} {done}.")
                return _go(request, _next_url(request) or reverse("orders:detail", args=[changed.pk]))
        order = _order_or_404(request, order_id)
        status = 422
    else:
        order = _order_or_404(request, order_id)
        if not can_move(order, to):
            return _not_now(request, order, Order.Status(to).label.lower())
        form = form_class()
        status = 200
    context = {
        "order": order,
        "form": form,
        "title": title,
        "explanation": explanation,
        "action_url": request.path,
        "next_url": _next_url(request),
        "danger": to == Order.Status.CANCELLED,
    }
    template = "orders/_status_dialog.html" if request.htmx else "orders/status_change.html"
    return render(request, template, context, status=status)


def _refuse_unreadable_dispatch(form: DispatchForm, why: UnreadableForm) -> None:
    """Say beside the field what Django refused to read (the typed values are lost with it)."""
    form.is_valid()
    if why == UnreadableForm.TOO_MANY_FILES:
        form.add_error("photos", f"You can attach {describe_limits()}; you chose too many files.")
    elif why == UnreadableForm.TOO_LARGE:
        form.add_error("message", f"The message has at most {actions.MAX_MESSAGE_LENGTH} characters.")
    else:
        form.add_error(
            "photos", "The chosen files could not be read (is a file name very long?). Choose them again."
        )


def _order_or_404(request, order_id) -> Order:
    try:
        return Order.objects.for_merchant(request.merchant).get(pk=order_id)
    except Order.DoesNotExist as missing:
        raise Http404("No such order.") from missing


def _not_now(request, order: Order, wanted: str):
    messages.warning(
        request,
        f"Order {order.reference} is {order.get_status_display().lower()}; it cannot be {wanted} now.",
    )
    return _go(request, reverse("orders:detail", args=[order.pk]))


def _changed_meanwhile(request, order_id: int, refusal: TransitionRefused):
    """Someone else moved the order since this form was opened: say so and show it as it is now."""
    messages.warning(request, refusal.message)
    return _go(request, reverse("orders:detail", args=[order_id]))


def _go(request, url: str):
    """Post-redirect-get; htmx is told to load the page whole, so its messages show."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _next_url(request) -> str:
    """Where to return after an action (the list it was started from), if it is ours."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


def _tracking_url(choice: dict, **changes) -> str:
    params = {"status": choice["status"], "q": choice["search"], "sort": choice["sort"]}
    params.update(changes)
    if changes.get("after") is None:
        params.pop("after", None)
    return f"{_reversed('orders:tracking')}?{urlencode({k: v for k, v in params.items() if v})}"
