"""The order page's body, written out by Python string formatting rather than the template engine.

In the template the body was about two hundred variable lookups, filters and date formats, the
larger part of the page's CPU. Here each value is escaped once where it is put in; the markup is
the one `detail.html` held (kept as `orders/detail_reference.html`), and
`orders/tests/test_order_page_html.py` holds the two to the same HTML for orders of every kind.
What is not written here stays in the template: the store's flagged change banner, the vendor
parts, the after-sales cases and the messages (each an include or inclusion tag of its own).
"""

from __future__ import annotations

import datetime
import html
from functools import cache

from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.safestring import SafeString, mark_safe

from orderdesk.money import format_money

from .models import Order
from .templatetags.order_pages import due_note, event_actor, event_details, partly_dispatched

# The check mark of "Mark as fulfilled" (as in _order_actions.html).
_CHECK = (
    '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true"><path d="M5 12.5l4.5 4.5L19 7.5" '
    'fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"/></svg> '
)


def escape(value) -> str:
    """What the template's autoescape does to a value that is not marked safe (none here is)."""
    return html.escape(value if type(value) is str else str(value))


@cache
def _choices(model, field: str) -> dict:
    return dict(model._meta.get_field(field).flatchoices)


def _label(instance, field: str) -> str:
    """instance.get_<field>_display(), escaped, without rebuilding the field's choices each call."""
    value = getattr(instance, field)
    return escape(_choices(type(instance), field).get(value, value))


def _month(number: int) -> str:
    return str(MONTHS_3[number]).title()


def _day(day: datetime.date | None) -> str:
    """The date filter's "M j, Y": "Dec 7, 2026" ("" for none)."""
    return f"{_month(day.month)} {day.day}, {day.year}" if day else ""


def _moment(moment: datetime.datetime) -> str:
    """The date filter's "M j, Y, H:i" in the current time zone: "Dec 7, 2026, 07:34"."""
    local = timezone.localtime(moment)
    return f"{_month(local.month)} {local.day}, {local.year}, {local:%H:%M}"


def _iso(moment: datetime.datetime) -> str:
    """The date filter's "c" in the current time zone."""
    return timezone.localtime(moment).isoformat()


def _or_dash(value) -> str:
    return escape(value) if value else "—"


def _money(amount, currency: str = "") -> str:
    return escape(format_money(amount, currency))


def order_page_parts(order: Order, *, show_costs: bool, costs, merchant_shipments) -> dict[str, SafeString]:
    """The body of the order page as `head` (breadcrumb and header, which the template closes
    after its after-sales button: the after-sales app's rule, not imported here), `cards` (the action buttons,
    then the grid's customer, items, payment, shipment and remarks cards) and `timeline`."""
    return {
        "head": mark_safe(_head(order)),
        "cards": mark_safe(
            _actions(order)
            + '\n\n<div class="order-grid">'
            + _customer(order)
            + _items(order, show_costs=show_costs, costs=costs)
            + _payment(order)
            + _shipments(merchant_shipments)
            + _remarks(order)
        ),
        "timeline": mark_safe(_timeline(order)),
    }


def _head(order: Order) -> str:
    status_label = _label(order, "status")
    status = escape(order.status)
    partly = (
        '<span class="badge badge-partly-dispatched">Partly dispatched</span>'
        if partly_dispatched(order)
        else ""
    )
    late = '<span class="badge badge-late">Late</span>' if order.late else ""
    return (
        f'<p class="breadcrumb"><a href="{escape(reverse("orders:tracking"))}?status={status}">‹ {status_label} orders</a></p>\n'
        f'<header class="page-header order-header">\n'
        f"  <h1>Order {escape(order.reference)}</h1>\n"
        f'  <p class="badges">{partly} <span class="badge badge-{status}">{status_label}</span> {late}</p>\n'
        f'  <p class="muted">Placed {_moment(order.placed_at)} · {escape(order.store.name)}</p>\n'
    )


def _actions(order: Order) -> str:
    if not order.buttons:
        return ""
    buttons = []
    for button in order.buttons:
        url = button.url  # made safe by the view (reverse() and urlencode())
        dialog = (
            f' role="button" hx-get="{url}" hx-target="#dialog-slot" hx-swap="innerHTML"'
            if button.opens_dialog
            else ""
        )
        check = _CHECK if button.name == "fulfilled" else ""
        buttons.append(
            f'<a class="{escape(button.style)}" href="{url}"{dialog}>{check}{escape(button.label)}</a>'
        )
    return f'<div class="order-actions">{" ".join(buttons)}</div>'


def _customer(order: Order) -> str:
    parts = [
        '<section class="card" aria-labelledby="customer-heading">',
        '<h2 id="customer-heading">Customer</h2>',
        f'<p class="customer-name">{escape(order.customer_name)}</p>',
    ]
    if order.customer_phone:
        phone = escape(order.customer_phone)
        parts.append(f'<p><a class="phone" href="tel:{phone}">{phone}</a></p>')
    if order.customer_email:
        email = escape(order.customer_email)
        parts.append(f'<p><a href="mailto:{email}">{email}</a></p>')
    if order.shipping_address:
        parts.append(f'<p class="address">{linebreaksbr(order.shipping_address, autoescape=True)}</p>')
    if order.note:
        parts.append(f'<p class="note"><strong>Customer\'s note:</strong> {escape(order.note)}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def _items(order: Order, *, show_costs: bool, costs) -> str:
    lines = []
    for line in order.lines.all():
        variant = f" ({escape(line.variant_title)})" if line.variant_title else ""
        sku = f'<small class="muted">SKU {escape(line.sku)}</small>' if line.sku else ""
        lines.append(
            f"<li><span>{line.quantity} × {escape(line.title)}{variant} {sku}<br>"
            f'<small class="muted">{_money(line.unit_price)} each</small></span> '
            f'<span class="num">{_money(line.line_total)}</span></li>'
        )
    sums = [
        f'<div><dt>Subtotal</dt><dd class="num">{_money(order.subtotal)}</dd></div>',
        f'<div><dt>Shipping fee</dt><dd class="num">{_money(order.shipping_fee)}</dd></div>',
    ]
    if order.discount:
        sums.append(f'<div><dt>Discount</dt><dd class="num">−{_money(order.discount)}</dd></div>')
    sums.append(
        f'<div class="total"><dt>Total</dt><dd class="num">{_money(order.total, order.currency)}</dd></div>'
    )
    if show_costs:
        sums.extend(_costs(order, costs))
    return (
        '<section class="card" aria-labelledby="items-heading">'
        '<h2 id="items-heading">Items</h2>'
        f'<ul class="lines">{"".join(lines)}</ul>'
        f'<dl class="sums">{"".join(sums)}</dl>'
        "</section>"
    )


def _costs(order: Order, costs) -> list[str]:
    """The owner's rows under the total: what the vendors and after-sales cost, and the margin."""
    rows = []
    if costs.cost is not None:
        rows.append(
            f'<div class="order-cost"><dt>Cost (vendors)</dt><dd class="num">−{_money(costs.cost)}</dd></div>'
        )
    if costs.resend_cost:
        rows.append(
            '<div class="order-resend-cost"><dt>Resends (after-sales)</dt>'
            f'<dd class="num">−{_money(costs.resend_cost)}</dd></div>'
        )
    if costs.refunded:
        rows.append(
            '<div class="order-refunded"><dt>Refunds to the customer</dt>'
            f'<dd class="num">−{_money(costs.refunded)}</dd></div>'
        )
    if costs.vendor_credit:
        rows.append(
            '<div class="order-vendor-credit"><dt>Vendors\' credits</dt>'
            f'<dd class="num">+{_money(costs.vendor_credit)}</dd></div>'
        )
    if costs.margin is not None:
        rows.append(
            '<div class="order-margin"><dt>Margin</dt>'
            f'<dd class="num">{_money(costs.margin, order.currency)}</dd></div>'
        )
    elif costs.other_currencies:
        currencies = escape(", ".join(str(currency) for currency in costs.other_currencies))
        rows.append(f"<div><dt>Margin</dt><dd>— <small>(vendor costs in {currencies})</small></dd></div>")
    return rows


def _payment(order: Order) -> str:
    days = order.processing_days
    due = due_note(order, order.today)
    note = f" <small>{escape(due.note)}</small>" if due.note else ""
    was_due = ""
    if order.due_on and due.label != "Dispatch by":
        was_due = f"<div><dt>Was due</dt><dd>{_day(order.due_on)}</dd></div>"
    return (
        '<section class="card" aria-labelledby="payment-heading">'
        '<h2 id="payment-heading">Payment and shipping</h2>'
        '<dl class="details">'
        f"<div><dt>Payment type</dt><dd>{_label(order, 'payment_method')}</dd></div>"
        f"<div><dt>Payment status</dt><dd>{_label(order, 'payment_status')}</dd></div>"
        f"<div><dt>Shipping option</dt><dd>{_or_dash(order.shipping_option)}</dd></div>"
        f"<div><dt>Processing time</dt><dd>{days} day{'' if days == 1 else 's'} <small>from payment</small></dd></div>"
        f'<div class="due{" is-late" if due.late else ""}"><dt>{escape(due.label)}</dt>'
        f"<dd>{escape(due.when)}{note}</dd></div>"
        f"{was_due}"
        "</dl>"
        "</section>"
    )


def _shipments(shipments: list) -> str:
    several = len(shipments) > 1
    cards = []
    for number, shipment in enumerate(shipments, start=1):
        pk = shipment.pk
        heading = f"Shipment {number}" if several else "Dispatch"
        if shipment.is_resend:
            heading += " · after-sales resend"
        items = ""
        if several:
            entries = ", ".join(
                f"{entry.quantity} × {escape(entry.order_line.title)}" for entry in shipment.lines.all()
            )
            items = f"<div><dt>Items</dt><dd>{entries}</dd></div>"
        message = ""
        if shipment.message:
            message = (
                '<div class="shipment-message"><h3>Message to the customer</h3>'
                f"<p>{linebreaksbr(shipment.message, autoescape=True)}</p></div>"
            )
        cards.append(
            f'<section class="card" aria-labelledby="shipment-{pk}-heading">'
            f'<h2 id="shipment-{pk}-heading">{heading}</h2>'
            '<dl class="details">'
            f"{items}"
            f"<div><dt>Courier</dt><dd>{_or_dash(shipment.carrier)}</dd></div>"
            f"<div><dt>Delivery reference</dt><dd>{escape(shipment.delivery_reference)}</dd></div>"
            f"<div><dt>Expected</dt><dd>{_day(shipment.expected_on)}</dd></div>"
            f"<div><dt>Shipping status</dt><dd>{_label(shipment, 'status')}</dd></div>"
            "</dl>"
            f"{message}{_photos(shipment) if shipment.has_photos else ''}"
            "</section>"
        )
    return "".join(cards)


def _photos(shipment) -> str:
    items = []
    for number, photo in enumerate(shipment.photos.all(), start=1):
        url = escape(photo.image.url)
        name = f" ({escape(photo.original_name)})" if photo.original_name else ""
        items.append(
            f'<li><a href="{url}"><img src="{url}" alt="Dispatch photo {number}{name}" loading="lazy" '
            f'width="{escape(photo.width)}" height="{escape(photo.height)}"></a></li>'
        )
    return f'<ul class="photos">{"".join(items)}</ul>'


def _remarks(order: Order) -> str:
    if not (order.fulfill_remarks or order.cancel_reason):
        return ""
    remarks = (
        f"<h2>Fulfillment remarks</h2><p>{escape(order.fulfill_remarks)}</p>" if order.fulfill_remarks else ""
    )
    reason = (
        f"<h2>Reason for cancelling</h2><p>{escape(order.cancel_reason)}</p>" if order.cancel_reason else ""
    )
    return f'<section class="card">{remarks}{reason}</section>'


def _timeline(order: Order) -> str:
    events = []
    for event in order.events.all():
        details = "".join(f'<p class="small">{escape(detail)}</p>' for detail in event_details(event))
        events.append(
            f'<li class="event event-{escape(event.kind)}">'
            f'<p><strong>{_label(event, "kind")}</strong> <span class="muted">{escape(event_actor(event, order))}</span></p>'
            f'<p class="muted small"><time datetime="{_iso(event.created_at)}">{_moment(event.created_at)}</time></p>'
            f"{details}"
            "</li>"
        )
    return (
        '<section class="card timeline-card" aria-labelledby="timeline-heading">'
        '<h2 id="timeline-heading">Timeline</h2>'
        f'<ol class="timeline">{"".join(events)}</ol>'
        "</section>"
    )
