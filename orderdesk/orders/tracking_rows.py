"""Order Tracking's rows, written out by Python string formatting rather than the template engine.

A page of rows is the list's hot loop: in the template, each row was about fifty variable
lookups, filters and tags, three quarters of a page's time. Here a row is one `str.format` of
values escaped once; what is the same on every row of a page (the role's buttons, the return
URL, today's date, the detail-page prefix) is worked out once by `RowMaker`. The markup is the
one `_order_rows.html` used to hold; `orders/tests/test_tracking_rows.py` holds them to the
same text a person sees.
"""

from __future__ import annotations

import datetime
from functools import lru_cache
from html import escape
from typing import TYPE_CHECKING

from django.utils import timezone, translation
from django.utils.dates import MONTHS_3
from django.utils.safestring import SafeString, mark_safe

from orderdesk.money import format_money

from .allocation_summary import order_margin
from .models import Order
from .templatetags.order_pages import due_note

if TYPE_CHECKING:
    from .queries import TrackingRow

# The check mark of "Mark as fulfilled".
_CHECK = (
    '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true"><path d="M5 12.5l4.5 4.5L19 7.5" '
    'fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"/></svg> '
)

_ROW = """
<li class="order-row{late_class}{placeable_class}" id="order-{pk}">
  {pick}<div class="order-panels" tabindex="0" aria-label="Order {reference} — swipe for items, payment and shipping">
    <section class="panel panel-main">
      <div class="row-head">
        <a class="order-ref" href="{url}">{reference}</a>
        <span class="badge badge-{status}">{status_label}</span>
        {late_badge}{store_change_badge}
      </div>
      <p class="customer-name">{customer_name}</p>
      {phone}{address}<p class="swipe-hint" aria-hidden="true"><span class="swipe-dots"><i class="on"></i><i></i><i></i></span>Swipe for items and shipping</p>
    </section>
    <section class="panel panel-items" aria-label="Items and payment">
      <ul class="lines">{lines}</ul>
      <p class="total"><span>Total</span><strong class="num">{total}</strong></p>
      <p class="muted">{payment_method} · {payment_status}</p>
      {costs}<p class="swipe-hint" aria-hidden="true"><span class="swipe-dots"><i></i><i class="on"></i><i></i></span></p>
    </section>
    <section class="panel panel-shipping" aria-label="Shipping and actions">
      <dl class="mini">
        <div><dt>Courier</dt><dd>{courier}</dd></div>
        <div class="due{due_class}"><dt>{due_label}</dt><dd>{due_when}{due_note}</dd></div>
        <div><dt>Placed</dt><dd>{placed}</dd></div>
      </dl>
      <div class="order-actions">
        {buttons}
      </div>
      <p class="swipe-hint" aria-hidden="true"><span class="swipe-dots"><i></i><i></i><i class="on"></i></span></p>
    </section>
  </div>
</li>
"""

_PICK = (
    '<label class="place-pick"><input type="checkbox" name="orders" value="{pk}" form="place-form">'
    '<span class="visually-hidden">Select order {reference}</span></label>\n  '
)
_STORE_CHANGE = (
    '<span class="badge badge-store-change" title="The store changed this order after it left Pending">'
    "Store change</span>"
)
_COSTS = '<p class="row-margin small">Cost {cost}{refunds}{credits} · Margin <strong class="num">{margin}</strong></p>\n      '


def _button_maker(to: str, label: str, style: str, opens_dialog: bool):
    """markup(url): one button's <a>, as _order_actions.html writes it."""
    icon = _CHECK if to == Order.Status.FULFILLED else ""
    label = escape(label)
    if opens_dialog:
        return lambda url: (
            f'<a class="{style}" href="{url}" role="button" hx-get="{url}" hx-target="#dialog-slot" '
            f'hx-swap="innerHTML">{icon}{label}</a>'
        )
    return lambda url: f'<a class="{style}" href="{url}">{icon}{label}</a>'


@lru_cache(maxsize=32)
def _labels_and_months(language: str | None) -> tuple[dict, dict]:
    """The choices' labels (escaped) and month names in one language, looked up once per process
    (get_FOO_display and the date filter look them up again for every value)."""
    labels = {
        field: {value: escape(str(label)) for value, label in Order._meta.get_field(field).flatchoices}
        for field in ("status", "payment_method", "payment_status")
    }
    return labels, {number: str(name).title() for number, name in MONTHS_3.items()}


class RowMaker:
    """Renders the rows of one page for one person: `RowMaker(...).render(rows)`, each row a
    queries.TrackingRow (plain values, not a model instance).

    `buttons` are the buttons the person's role allows, each `(to, label, style, opens_dialog,
    url_start, url_end)` with the order's id going between url_start and url_end (which carries
    the encoded return URL); `transitions` is ORDER_TRANSITIONS.
    """

    def __init__(self, *, buttons, transitions, detail_url_start: str, today: datetime.date, placeable: bool):
        # Parts from reverse() and urlencode(), escaped as the template escaped them ("&" → "&amp;").
        made = [
            (to, escape(url_start), escape(url_end), _button_maker(to, label, style, opens_dialog))
            for to, label, style, opens_dialog, url_start, url_end in buttons
        ]
        self._buttons = {
            status: [button[1:] for button in made if button[0] in moves]
            for status, moves in transitions.items()
        }
        self._detail_url_start = detail_url_start
        self._today = today
        self._placeable = placeable
        self._labels, self._months = _labels_and_months(translation.get_language())
        self._zone = timezone.get_current_timezone()

    def _label(self, field: str, value: str) -> str:
        return self._labels[field].get(value) or escape(value)

    def _placed(self, moment: datetime.datetime) -> str:
        """The date filter's "M j, H:i" in the current time zone: "Dec 7, 07:34"."""
        local = moment.astimezone(self._zone)
        return f"{self._months[local.month]} {local.day}, {local:%H:%M}"

    @staticmethod
    def _lines(order: TrackingRow) -> str:
        """The row's items, "2 × Linen shirt (M) … 1,598.00", one <li> each."""
        return "".join(
            f"<li><span>{quantity} × {escape(title)}"
            f"{f' ({escape(variant_title)})' if variant_title else ''}</span>"
            f'<span class="num">{format_money(unit_price * quantity)}</span></li>'
            for quantity, title, variant_title, unit_price in order.lines
        )

    def _buttons_of(self, order: TrackingRow) -> str:
        pk = str(order.pk)
        return "\n        ".join(
            markup(f"{start}{pk}{end}") for start, end, markup in self._buttons[order.status]
        )

    def row(self, order: TrackingRow) -> str:
        pk = str(order.pk)
        reference = escape(order.reference)
        due = due_note(order, self._today)
        late = order.is_late(self._today)
        cost = order.vendor_cost
        phone = escape(order.customer_phone)
        address = order.shipping_address
        return _ROW.format(
            late_class=" is-late" if late else "",
            placeable_class=" placeable" if self._placeable else "",
            pk=pk,
            pick=_PICK.format(pk=pk, reference=reference) if self._placeable else "",
            reference=reference,
            url=f"{self._detail_url_start}{pk}/",
            status=escape(order.status),
            status_label=self._label("status", order.status),
            late_badge='<span class="badge badge-late">Late</span>' if late else "",
            store_change_badge=_STORE_CHANGE if order.flagged_store_change else "",
            customer_name=escape(order.customer_name),
            phone=(f'<p><a class="phone" href="tel:{phone}">{phone}</a></p>\n      ' if phone else ""),
            address=f'<p class="address">{escape(address)}</p>\n      ' if address else "",
            lines=self._lines(order),
            total=escape(format_money(order.total, order.currency)),
            payment_method=self._label("payment_method", order.payment_method),
            payment_status=self._label("payment_status", order.payment_status),
            costs=(
                _COSTS.format(
                    cost=escape(format_money(cost + order.resend_cost_total)),
                    refunds=f" · Refunds −{escape(format_money(order.refunded_total))}"
                    if order.refunded_total
                    else "",
                    credits=f" · Credits +{escape(format_money(order.vendor_credit_total))}"
                    if order.vendor_credit_total
                    else "",
                    margin=escape(format_money(order_margin(order, cost), order.currency)),
                )
                if cost is not None
                else ""
            ),
            courier=escape(order.shipping_option or "—"),
            due_class=" is-late" if due.late else "",
            due_label=escape(due.label),
            due_when=escape(due.when),
            due_note=f" <small>{escape(due.note)}</small>" if due.note else "",
            placed=self._placed(order.placed_at),
            buttons=self._buttons_of(order),
        )

    def render(self, orders) -> SafeString:
        # Every value above is escaped where it is put in; the rest is this module's markup.
        return mark_safe("".join(self.row(order) for order in orders))
