"""The lean check and answer of an order create give exactly what NewOrderSerializer and
OrderSerializer give, and step aside for the serializer whenever the input is not plain."""

import copy
import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderdesk.api import lean, serializers
from orderdesk.fulfillment.models import TrackingEvent
from orderdesk.orders.queries import order_for_page
from orderdesk.orders.tests.factories import dispatched_order

from .factories import ORDER_BODY

CHECK = lean.input_check(serializers.NewOrderSerializer())


def drf(body):
    """NewOrderSerializer's answer: its validated data, or None when it refuses."""
    serializer = serializers.NewOrderSerializer(data=body)
    return dict(serializer.validated_data) if serializer.is_valid() else None


def same_as_drf(body) -> None:
    found = CHECK(copy.deepcopy(body))
    if found is not None:
        assert found == drf(body)


PLAIN = {
    **ORDER_BODY,
    "payment_confirmed": True,
    "discount": "20.5",
    "note": "  leave at the gate  ",
    "reference": "CHAT-1",
    "external_id": None,
    "processing_days": 2,
    "store_id": None,
    "unknown": "ignored",
}


@pytest.mark.parametrize("body", [ORDER_BODY, PLAIN], ids=["smallest", "every plain field"])
def test_plain_json_is_checked_without_the_serializer_and_gives_what_it_gives(body):
    found = CHECK(copy.deepcopy(body))
    assert found is not None
    assert found == drf(body)


@pytest.mark.parametrize(
    "change",
    [
        {"lines": []},  # refused: at least one line
        {"payment_method": "barter"},  # refused: not a choice
        {"customer": {"name": "   "}},  # refused: blank
        {"shipping_fee": "1.234"},  # refused: three decimals
        {"shipping_fee": 120},  # a number: the serializer reads it
        {"shipping_fee": " 120.00 "},  # spaces: the serializer trims them
        {"payment_confirmed": "true"},  # text: the serializer reads it
        {"placed_at": "2026-12-01T10:00:00+08:00"},  # a time: the serializer parses it
        {"lines": [{"title": "Shirt", "quantity": "2", "unit_price": "10.00"}]},  # "2": the serializer
        {"lines": [{"title": "Shirt", "quantity": True, "unit_price": "10.00"}]},  # refused: a boolean
        {"customer": {"name": "Ana\x00"}},  # refused: a NUL
        {"customer": {"name": "Ana \ud800"}},  # refused: a lone surrogate
        {"lines": [{"title": "x" * 256, "quantity": 1, "unit_price": "1.00"}]},  # refused: too long
    ],
)
def test_anything_not_plain_is_left_to_the_serializer(change):
    body = {**ORDER_BODY, **change}
    assert CHECK(copy.deepcopy(body)) is None
    same_as_drf(body)


def test_a_body_that_is_not_an_object_is_left_to_the_serializer():
    assert CHECK([ORDER_BODY]) is None
    assert CHECK("order") is None


texts = st.one_of(st.text(max_size=12), st.sampled_from(["", " ", "gcash", "cod", "10.00", "0", "7"]))
values = st.one_of(
    texts,
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=400),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
)
lines = st.fixed_dictionaries(
    {"title": values, "quantity": values, "unit_price": values},
    optional={"sku": values, "variant_title": values, "variant_id": values},
)


@settings(max_examples=50, deadline=None)
@given(
    customer=st.one_of(
        st.fixed_dictionaries({"name": values}, optional={"phone": values, "email": values}), values
    ),
    order_lines=st.one_of(st.lists(lines, max_size=3), values),
    fields=st.dictionaries(
        st.sampled_from(
            [
                "payment_method",
                "payment_confirmed",
                "shipping_fee",
                "discount",
                "processing_days",
                "note",
                "store_id",
                "external_id",
                "reference",
                "shipping_option",
            ]
        ),  # fmt: skip
        values,
    ),
)
def test_whatever_the_body_the_lean_check_agrees_with_the_serializer_or_steps_aside(
    customer, order_lines, fields
):
    same_as_drf({"customer": customer, "lines": order_lines, "payment_method": "gcash", **fields})


@pytest.mark.django_db
def test_the_lean_answer_shows_an_order_as_the_serializer_does(owner):
    order = dispatched_order(owner)
    shipment = order.fulfillments.get()
    TrackingEvent.objects.create(
        merchant=order.merchant,
        fulfillment=shipment,
        status="in_transit",
        occurred_at=datetime.datetime(2026, 12, 1, 8, 30, tzinfo=datetime.UTC),
        place="Pasig hub",
        text="Arrived at the hub",
    )
    shown = order_for_page(order.merchant, order.pk)
    serializer = serializers.OrderSerializer()
    answer = lean.shown(serializer)(shown)
    assert answer == serializer.to_representation(shown)
    assert answer["shipments"][0]["tracking_events"][0]["place"] == "Pasig hub"
    assert answer["lines"] and answer["events"]
