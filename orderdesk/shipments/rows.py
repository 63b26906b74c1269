"""The shipping-status list's rows as HTML, written in Python rather than by the template engine.

Twenty rows through `{% for %}` cost more CPU than the rest of the page's body (about 25
variables, tags and filters a row, each resolved and escaped by the engine), so the list's
view writes them here, the markup the same as the template's was, byte for byte
(tests/test_shipment_rows.py compares them over random values).

Every value from the database is escaped with `html.escape`: what django.utils.html.escape
does (it is `html.escape(str(value))` marked safe, the same five characters escaped), without
its lazy-text wrapper and a SafeString per value, which cost 60 % of writing the rows; the
rows are marked safe once, whole.
"""

from __future__ import annotations

from html import escape

from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.safestring import SafeString, mark_safe

from orderdesk.fulfillment.queries import ShipmentRow


def shipment_rows_html(rows: list[ShipmentRow], *, is_vendor: bool) -> SafeString:
    """The `<li>` of each row, in order (shipments/_shipment_rows.html puts them before its "Show more")."""
    return mark_safe("".join(_row(row, is_vendor) for row in rows))


def _row(row: ShipmentRow, is_vendor: bool) -> str:
    attention = escape(row.attention) if row.attention else ""
    items = "".join(
        f"<li>{quantity} × {escape(title)}"
        + (f' <span class="muted">{escape(sku)}</span>' if sku else "")
        + "</li>"
        for quantity, title, sku in row.items
    )
    if is_vendor:
        by = ""
    else:
        by = (escape(row.vendor_name) if row.vendor_name is not None else "Shipped by you") + " · "
    tracking = (
        f" · {escape(row.carrier or 'Tracking')} {escape(row.delivery_reference)}"
        if row.delivery_reference
        else ""
    )
    return (
        f'\n<li class="shipment-row{" needs-attention" if attention else ""}" id="shipment-{row.pk}">\n'
        f'  <div class="row-head">\n'
        f'    <a class="order-ref" href="{escape(row.url)}">{escape(row.reference)}</a>\n'
        f'    <span class="badge badge-ship-{escape(row.status)}">{escape(row.status_label)}</span>\n'
        + (
            f'    <span class="badge badge-attention" title="{attention}">Needs attention</span>\n'
            if attention
            else "    \n"
        )
        + "  </div>\n"
        f'  <p class="customer-name">{escape(row.customer_name)}</p>\n'
        f'  <ul class="shipment-items">{items}</ul>\n'
        f'  <p class="muted small">{by}allocated {escape(_when(row.created_at))}{tracking}</p>\n'
        + (f'  <p class="attention-why small">{attention}</p>\n' if attention else "  \n")
        + "</li>\n"
    )


def _when(moment) -> str:
    """`moment|date:"M j, H:i"` in the current time zone, as the template's filter wrote it."""
    local = timezone.localtime(moment)
    return f"{MONTHS_3[local.month].title()} {local.day}, {local.hour:02d}:{local.minute:02d}"
