"""The bulk path's row helpers (orders.inserts) and the remembered phone parsing: what they
write is what Django's own instances and save() would have written."""

from decimal import Decimal

import pytest
from django.db import connection, models
from django.db.models.functions import Now
from django.test.utils import CaptureQueriesContext

from orderdesk.accounts.tests.factories import MerchantFactory
from orderdesk.customers.models import Customer
from orderdesk.orders import actions
from orderdesk.orders.inserts import _python_default, insert, insert_values, new_row
from orderdesk.orders.models import Order, OrderEvent, OrderLine
from orderdesk.stores.models import Store

pytestmark = pytest.mark.django_db


def _order_values(merchant, store, **overrides) -> dict:
    return {
        "merchant_id": merchant.pk,
        "store_id": store.pk,
        "reference": "T-1",
        "customer_name": "Rosa Reyes",
        "currency": merchant.currency,
        "subtotal": Decimal("100.00"),
        "total": Decimal("100.00"),
        "payment_method": "gcash",
        "processing_days": 2,
        **overrides,
    }


def test_a_new_row_holds_what_the_model_itself_would_hold():
    merchant = MerchantFactory()
    store = Store.objects.create(merchant=merchant, name="Shop")
    values = _order_values(merchant, store)

    made, usual = new_row(Order, values), Order(**values)

    # Callable defaults (the time, the customer page's random token) are made for each row.
    made_anew = {f.attname for f in Order._meta.concrete_fields if f.has_default() and callable(f.default)}
    assert made_anew == {"placed_at", "customer_page_token"}
    fields = [f.attname for f in Order._meta.concrete_fields if f.attname not in made_anew]
    assert {name: made.__dict__[name] for name in fields} == {name: usual.__dict__[name] for name in fields}
    assert made.placed_at is not None and made._state.adding and made.pk is None
    assert len(made.customer_page_token) == len(usual.customer_page_token)
    assert made.customer_page_token != new_row(Order, values).customer_page_token


def test_a_callable_default_is_made_anew_for_each_row_unless_given():
    given = new_row(OrderEvent, {"kind": "placed", "created_at": "given"})
    first, second = new_row(OrderEvent, {"kind": "placed"}), new_row(OrderEvent, {"kind": "placed"})

    assert given.created_at == "given"
    assert first.created_at is not None and first.created_at <= second.created_at
    assert first.data is not second.data  # a JSON default of {} is not shared between rows


def test_inserted_rows_read_back_as_saved_ones_would():
    merchant = MerchantFactory()
    store = Store.objects.create(merchant=merchant, name="Shop")
    customer = new_row(Customer, {"merchant_id": merchant.pk, "name": "Rosa Reyes", "phone": "+639175550199"})
    insert([customer])
    order = new_row(Order, _order_values(merchant, store, customer_id=customer.pk))
    insert([order])

    insert_values(
        OrderLine,
        ("merchant_id", "order_id", "title", "quantity", "unit_price"),
        [
            (merchant.pk, order.pk, "Linen shirt", 2, Decimal("799.00")),
            (merchant.pk, order.pk, "Tote", 1, Decimal("5")),
        ],
    )

    stored = Order.objects.get(pk=order.pk)
    assert (stored.customer_id, stored.reference, stored.total) == (customer.pk, "T-1", Decimal("100.00"))
    assert stored.updated_at is not None and stored.placed_at == order.placed_at
    lines = list(
        OrderLine.objects.filter(order=order).values_list("title", "sku", "variant_id", "unit_price")
    )
    # The fields not given get the model's defaults: a blank SKU, no variant.
    assert lines == [("Linen shirt", "", None, Decimal("799.00")), ("Tote", "", None, Decimal("5.00"))]
    assert Customer.objects.get(pk=customer.pk).created_at is not None


def test_a_column_with_only_a_database_default_gets_that_value():
    field = models.CharField(max_length=10, db_default="fresh")
    field.set_attributes_from_name("state")

    assert _python_default(field) == "fresh"
    assert _python_default(models.CharField(max_length=10, default="x", db_default="y")) == "x"
    with pytest.raises(TypeError, match="give its value"):
        _python_default(models.DateTimeField(db_default=Now()))


def test_a_phone_is_parsed_once_whether_given_as_typed_or_normalized(monkeypatch):
    parsed = []
    normalize = actions.normalize_phone
    monkeypatch.setattr(actions, "normalize_phone", lambda raw: parsed.append(raw) or normalize(raw))
    monkeypatch.setattr(actions, "_PHONES_SEEN", {})

    assert actions.normalized_phone("0917 555 0199") == "+639175550199"
    assert actions.normalized_phone("+639175550199") == "+639175550199"
    assert actions.normalized_phone("0917 555 0199") == "+639175550199"
    assert parsed == ["0917 555 0199"]
    with pytest.raises(ValueError, match="not a valid phone number"):
        actions.normalized_phone("+63 12")


def test_a_batch_written_in_bulk_reads_back_as_one_written_row_by_row():
    """A batch's rows (bulk=True) go in by COPY on PostgreSQL (ids from the sequence first):
    the same values, the ids in the rows' order, awkward text and JSON intact, one statement
    (two when ids are wanted) whatever the size."""
    count = 25
    merchant = MerchantFactory()
    store = Store.objects.create(merchant=merchant, name="Shop")
    awkward = 'Tab\tnew\nline, back\\slash, "quotes", \u00f1 and \\N'
    few = [new_row(Order, _order_values(merchant, store, reference=f"F-{n}")) for n in range(2)]
    many = [
        new_row(Order, _order_values(merchant, store, reference=f"M-{n}", note=awkward, customer_email=""))
        for n in range(count)
    ]
    with CaptureQueriesContext(connection) as captured:
        insert(few)
        insert(many, bulk=True)
    assert len(captured.captured_queries) == (3 if connection.vendor == "postgresql" else 2)
    for order in few + many:
        stored = Order.objects.get(pk=order.pk)
        assert (stored.reference, stored.note, stored.total) == (order.reference, order.note, order.total)
        assert stored.placed_at == order.placed_at and stored.customer_page_token == order.customer_page_token
    assert [o.pk for o in many] == sorted(o.pk for o in many)

    events = [
        new_row(
            OrderEvent,
            {
                "merchant_id": merchant.pk,
                "order_id": order.pk,
                "kind": "placed",
                "data": {"note": awkward, "n": n},
            },
        )
        for n, order in enumerate(many)
    ]
    insert(events, bulk=True)
    assert [OrderEvent.objects.get(pk=event.pk).data for event in events] == [
        {"note": awkward, "n": n} for n in range(count)
    ]
    insert_values(
        OrderLine,
        ("merchant_id", "order_id", "title", "quantity", "unit_price", "variant_id"),
        [(merchant.pk, many[0].pk, f"{awkward} {n}", n + 1, Decimal("799.50"), None) for n in range(count)],
        bulk=True,
    )
    assert list(
        OrderLine.objects.filter(order=many[0])
        .order_by("quantity")
        .values_list("title", "quantity", "unit_price")
    ) == [(f"{awkward} {n}", n + 1, Decimal("799.50")) for n in range(count)]
