"""What a store may send that the database cannot hold is refused with a message, never a database error."""

from decimal import Decimal

import pytest

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.orders.actions import CustomerDetails, LineInput
from orderdesk.orders.errors import InvalidOrder
from orderdesk.orders.models import Order, OrderLine

from .factories import new_order

pytestmark = pytest.mark.django_db

SHIRT = {"title": "Linen shirt", "unit_price": "799.00"}


@pytest.mark.parametrize(
    ("overrides", "message", "field"),
    [
        (
            {"lines": [LineInput(quantity=2**31, **SHIRT)]},
            "Item 1 (Linen shirt) has a quantity of 2,147,483,648; at most 100,000 of one item per order.",
            "lines",
        ),
        (
            {"lines": [LineInput(quantity=100_001, **SHIRT)]},
            "Item 1 (Linen shirt) has a quantity of 100,001; at most 100,000 of one item per order.",
            "lines",
        ),
        (
            {"shipping_fee": Decimal("10000000000")},
            "The shipping fee is too large (at most 9,999,999,999.99).",
            "shipping_fee",
        ),
        # Each amount fits its column; the total would not.
        ({"shipping_fee": Decimal("9999999999.99")}, "The order's total is too large.", "lines"),
        (
            {"lines": [LineInput(title="Gold bar", quantity=100_000, unit_price="9999999.99")]},
            "The order's total is too large.",
            "lines",
        ),
        (
            {"customer": CustomerDetails(name="Rosa\x00")},
            "The customer's name contains a NUL character.",
            "customer_name",
        ),
        (
            {"customer": CustomerDetails(name="Rosa", address="5 Rizal\x00 Ave")},
            "The shipping address contains a NUL character.",
            "shipping_address",
        ),
        (
            {"lines": [LineInput(title="Shirt\x00", quantity=1, unit_price="1")]},
            "The title of item 1 contains a NUL character.",
            "lines",
        ),
        (
            {"lines": [LineInput(title="Shirt", sku="LS\x00", quantity=1, unit_price="1")]},
            "The SKU of item 1 contains a NUL character.",
            "lines",
        ),
        ({"note": "leave at gate\x00"}, "The note contains a NUL character.", "note"),
        ({"shipping_option": "J&T\x00"}, "The shipping option contains a NUL character.", "shipping_option"),
        ({"external_id": "x" * 101}, "A store's order id has at most 100 characters.", "external_id"),
    ],
)
def test_recording_refuses_what_the_database_cannot_hold_and_writes_nothing(
    overrides, message, field, record
):
    actor = owner_actor()
    with pytest.raises(InvalidOrder) as refusal:
        record(new_order(**overrides), by=actor)
    assert refusal.value.message == message
    assert refusal.value.field == field
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()


def test_the_largest_quantity_and_total_the_columns_hold_are_accepted(record):
    order = record(
        new_order(
            lines=[LineInput(title="Button", quantity=100_000, unit_price="99999.99")],
            shipping_fee=Decimal("0"),
        ),
        by=owner_actor(),
    )
    order.refresh_from_db()
    assert order.total == Decimal("9999999000.00")
    assert order.lines.get().quantity == 100_000
