"""The list's rows written in Python (shipments.rows) are the HTML the row template wrote, byte
for byte, for every kind of row: with and without attention, vendor, tracking, SKU, and values
that need escaping; in the merchant's and a vendor's view, in another time zone."""

import datetime

from django.template import engines
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from orderdesk.fulfillment.queries import ShipmentRow
from orderdesk.shipments.rows import shipment_rows_html

# shipments/_shipment_rows.html's loop as it was before the rows moved to Python.
ROW_TEMPLATE = """{% for shipment in page.shipments %}
<li class="shipment-row{% if shipment.attention %} needs-attention{% endif %}" id="shipment-{{ shipment.pk }}">
  <div class="row-head">
    <a class="order-ref" href="{{ shipment.url }}">{{ shipment.reference }}</a>
    <span class="badge badge-ship-{{ shipment.status }}">{{ shipment.status_label }}</span>
    {% if shipment.attention %}<span class="badge badge-attention" title="{{ shipment.attention }}">Needs attention</span>{% endif %}
  </div>
  <p class="customer-name">{{ shipment.customer_name }}</p>
  <ul class="shipment-items">{% for quantity, title, sku in shipment.items %}<li>{{ quantity }} × {{ title }}{% if sku %} <span class="muted">{{ sku }}</span>{% endif %}</li>{% endfor %}</ul>
  <p class="muted small">{% if not is_vendor %}{% if shipment.vendor_name is not None %}{{ shipment.vendor_name }}{% else %}Shipped by you{% endif %} · {% endif %}allocated {{ shipment.created_at|date:"M j, H:i" }}{% if shipment.delivery_reference %} · {{ shipment.carrier|default:"Tracking" }} {{ shipment.delivery_reference }}{% endif %}</p>
  {% if shipment.attention %}<p class="attention-why small">{{ shipment.attention }}</p>{% endif %}
</li>
{% endfor %}"""

TRICKY = "<b>&\"'Ñ ü"


def template_rows(rows, *, is_vendor):
    return (
        engines["django"]
        .from_string(ROW_TEMPLATE)
        .render({"page": {"shipments": rows}, "is_vendor": is_vendor})
    )


def row(n, **changes):
    values = {
        "pk": n,
        "status": "in_transit",
        "status_label": "In transit",
        "reference": f"BN-{n}",
        "customer_name": "Liza Garcia",
        "vendor_name": "Cebu Source",
        "created_at": datetime.datetime(2026, 12, 31, 17, 5, tzinfo=datetime.UTC),
        "carrier": "J&T Express",
        "delivery_reference": "JT123",
        "ship_by": None,
        "last_event_at": None,
        "items": [(2, "Linen shirt", "LS-M"), (1, "Tote", "")],
        "attention": "",
        "url": f"/shipments/{n}/",
    }
    return ShipmentRow(**(values | changes))


KINDS = [
    row(1),
    row(2, attention="No news for 9 days", vendor_name=None, carrier="", items=[]),
    row(3, delivery_reference="", attention=TRICKY, reference=TRICKY, customer_name=TRICKY),
    row(4, vendor_name=TRICKY, carrier=TRICKY, delivery_reference=TRICKY, items=[(1234, TRICKY, TRICKY)]),
    row(
        5,
        status="pending",
        status_label="Pending",
        vendor_name="",
        created_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    ),
]


def test_every_kind_of_row_is_written_as_the_template_wrote_it():
    for zone in ("UTC", "Asia/Manila", "America/Los_Angeles"):
        with timezone.override(zone):
            for is_vendor in (False, True):
                assert shipment_rows_html(KINDS, is_vendor=is_vendor) == template_rows(
                    KINDS, is_vendor=is_vendor
                )
    assert "&lt;b&gt;&amp;&quot;&#x27;" in shipment_rows_html(KINDS, is_vendor=False)
    assert shipment_rows_html([], is_vendor=False) == ""


text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=50, deadline=None)
@given(
    reference=text,
    customer=text,
    vendor=st.none() | text,
    carrier=text,
    tracking=text,
    attention=text,
    items=st.lists(st.tuples(st.integers(1, 10**6), text, text), max_size=3),
    minutes=st.integers(0, 10**7),
    is_vendor=st.booleans(),
)
def test_any_row_is_written_as_the_template_wrote_it(
    reference, customer, vendor, carrier, tracking, attention, items, minutes, is_vendor
):
    shipment = row(
        7,
        reference=reference,
        customer_name=customer,
        vendor_name=vendor,
        carrier=carrier,
        delivery_reference=tracking,
        attention=attention,
        items=items,
        created_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(minutes=minutes),
    )
    with timezone.override("Asia/Manila"):
        assert shipment_rows_html([shipment], is_vendor=is_vendor) == template_rows(
            [shipment], is_vendor=is_vendor
        )
