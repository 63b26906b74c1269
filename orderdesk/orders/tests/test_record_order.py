from decimal import Decimal

import pytest

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.orders.actions import CustomerDetails, LineInput
from orderdesk.orders.errors import DuplicateOrder, InvalidOrder
from orderdesk.orders.models import Order, OrderLine
from orderdesk.stores.models import Store

from .factories import new_order

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("overrides", "message", "field"),
    [
        ({"customer": CustomerDetails(name=" ")}, "Enter the customer's name.", "customer_name"),
        (
            {"customer": CustomerDetails(name="Jo", phone="12")},
            "“12” is not a valid phone number.",
            "customer_phone",
        ),
        (
            {"customer": CustomerDetails(name="Jo", phone="call me maybe")},
            "is not a phone number",
            "customer_phone",
        ),
        (
            {"customer": CustomerDetails(name="Jo", email="jo@")},
            "“jo@” is not an email address.",
            "customer_email",
        ),
        ({"lines": []}, "An order needs at least one item.", "lines"),
        ({"lines": [LineInput(title="Cap", quantity=0, unit_price="10")]}, "quantity of at least 1", "lines"),
        ({"lines": [LineInput(title="Cap", quantity=1, unit_price="-1")]}, "must be zero or more", "lines"),
        (
            {"lines": [LineInput(title="Cap", quantity=1, unit_price="1.005")]},
            "more than two decimal places",
            "lines",
        ),
        ({"lines": [LineInput(title="Cap", quantity=1, unit_price=0.1)]}, "not a float", "lines"),
        ({"lines": [LineInput(title="Cap", quantity=1, unit_price="ten")]}, "is not an amount", "lines"),
        ({"lines": [LineInput(title="", quantity=1, unit_price="1")]}, "Item 1 needs a title.", "lines"),
        ({"payment_method": "barter"}, "“barter” is not a payment method we know.", "payment_method"),
        ({"discount": Decimal("99999")}, "The discount is larger than the order's value.", "discount"),
        ({"processing_days": 400}, "between 0 and 365", "processing_days"),
    ],
)
def test_recording_an_order_refuses_bad_details_and_writes_nothing(overrides, message, field, record):
    actor = owner_actor()
    with pytest.raises(InvalidOrder) as refusal:
        record(new_order(**overrides), by=actor)
    assert message in refusal.value.message
    assert refusal.value.field == field
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()
    actor.merchant.refresh_from_db()
    assert actor.merchant.last_order_number == 1000


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("0917 123 4567", "+639171234567"),
        ("+63 917-123-4567", "+639171234567"),
        ("+1 (415) 555-2671", "+14155552671"),
    ],
)
def test_phones_are_stored_in_e164(written, stored, record):
    order = record(new_order(customer=CustomerDetails(name="Jo", phone=written)), by=owner_actor())
    assert order.customer_phone == stored


def test_the_same_store_order_cannot_be_imported_twice(record):
    actor = owner_actor()
    store = Store.objects.create(merchant=actor.merchant, name="Shopify", channel=Store.Channel.SHOPIFY)
    first = record(new_order(store_id=store.pk, external_id="5001", reference="#5001"), by=actor)

    with pytest.raises(DuplicateOrder) as refusal:
        record(new_order(store_id=store.pk, external_id="5001", reference="#5001-b"), by=actor)

    assert refusal.value.existing_order_id == first.pk
    assert "already recorded" in refusal.value.message
    assert Order.objects.count() == 1


def test_the_same_external_id_in_two_stores_is_two_orders(record):
    actor = owner_actor()
    one = Store.objects.create(merchant=actor.merchant, name="Shopify", channel=Store.Channel.SHOPIFY)
    two = Store.objects.create(merchant=actor.merchant, name="Woo", channel=Store.Channel.WOOCOMMERCE)
    record(new_order(store_id=one.pk, external_id="77"), by=actor)
    record(new_order(store_id=two.pk, external_id="77"), by=actor)
    assert Order.objects.count() == 2


def test_a_taken_reference_is_refused(record):
    actor = owner_actor()
    record(new_order(reference="WEB-1"), by=actor)
    with pytest.raises(DuplicateOrder, match="Order reference WEB-1 is already taken."):
        record(new_order(reference="WEB-1"), by=actor)
    assert Order.objects.count() == 1


def test_another_merchants_store_cannot_receive_my_order(record):
    actor, other = owner_actor(), owner_actor()
    their_store = Store.objects.create(merchant=other.merchant, name="Theirs")
    with pytest.raises(InvalidOrder, match="That store does not exist."):
        record(new_order(store_id=their_store.pk), by=actor)
    assert not Order.objects.exists()


def test_money_uses_the_merchants_currency_and_exact_decimals(record):
    actor = owner_actor()
    actor.merchant.currency = "USD"
    actor.merchant.save()
    order = record(
        new_order(
            lines=[LineInput(title="Pin", quantity=3, unit_price="0.10")],
            shipping_fee="0.20",
            discount="0.10",
        ),
        by=actor,
    )
    order.refresh_from_db()
    assert order.currency == "USD"
    assert order.subtotal == Decimal("0.30")
    assert order.total == Decimal("0.40")


def test_orders_from_the_same_phone_belong_to_one_customer_and_keep_their_own_snapshot(record):
    actor = owner_actor()
    first = record(new_order(customer=CustomerDetails(name="Maria", phone="09175550101")), by=actor)
    second = record(
        new_order(customer=CustomerDetails(name="Maria S.", phone="+639175550101", address="New address")),
        by=actor,
    )
    assert first.customer_id == second.customer_id
    assert (first.customer_name, second.customer_name) == ("Maria", "Maria S.")
    assert second.shipping_address == "New address"


def test_customers_are_never_shared_between_merchants(record):
    one, two = owner_actor(), owner_actor()
    a = record(new_order(), by=one)
    b = record(new_order(), by=two)
    assert a.customer_id != b.customer_id
    assert a.customer.merchant == one.merchant


def test_a_line_cannot_point_at_another_merchants_variant_or_a_missing_one(record):
    from orderdesk.catalog.models import Product, Variant

    actor, other = owner_actor(), owner_actor()
    their_product = Product.objects.create(merchant=other.merchant, title="Their cap")
    their_variant = Variant.objects.create(
        merchant=other.merchant, product=their_product, sku="CAP", price=Decimal("10")
    )
    for variant_id in (their_variant.pk, 987654):
        with pytest.raises(InvalidOrder, match=r"Item 1 \(Cap\): that product variant does not exist."):
            record(
                new_order(lines=[LineInput(title="Cap", quantity=1, unit_price="10", variant_id=variant_id)]),
                by=actor,
            )
    assert not Order.objects.exists()


def test_a_line_may_point_at_the_merchants_own_variant(record):
    from orderdesk.catalog.models import Product, Variant

    actor = owner_actor()
    product = Product.objects.create(merchant=actor.merchant, title="Cap")
    variant = Variant.objects.create(merchant=actor.merchant, product=product, sku="CAP", price=Decimal("10"))
    order = record(
        new_order(lines=[LineInput(title="Cap", quantity=1, unit_price="10", variant_id=variant.pk)]),
        by=actor,
    )
    assert order.lines.get().variant == variant


def test_a_refused_order_takes_no_order_number(record):
    """A store order's number is taken with the merchant's row lock, before its INSERT meets the
    unique constraint: the refusal rolls it back, so the next order gets the number the refused
    one would have had."""
    actor = owner_actor()
    store = Store.objects.create(merchant=actor.merchant, name="Shopify", channel=Store.Channel.SHOPIFY)
    first = record(new_order(store_id=store.pk, external_id="9001"), by=actor)
    with pytest.raises(DuplicateOrder):
        record(new_order(store_id=store.pk, external_id="9001"), by=actor)
    second = record(new_order(store_id=store.pk, external_id="9002"), by=actor)
    prefix, number = first.reference.rsplit("-", 1)
    assert second.reference == f"{prefix}-{int(number) + 1}"


def test_the_customer_found_is_the_one_with_the_phone_before_an_older_one_with_the_email(record):
    actor = owner_actor()
    by_email = record(new_order(customer=CustomerDetails(name="Ana", email="ana@example.com")), by=actor)
    by_phone = record(new_order(customer=CustomerDetails(name="Ana", phone="09175550123")), by=actor)
    both = record(
        new_order(customer=CustomerDetails(name="Ana", phone="09175550123", email="ana@example.com")),
        by=actor,
    )
    email_only = record(new_order(customer=CustomerDetails(name="Ana", email="ana@example.com")), by=actor)
    new_phone = record(
        new_order(customer=CustomerDetails(name="Ana", phone="09175550999", email="ana@example.com")),
        by=actor,
    )
    assert by_email.customer_id != by_phone.customer_id
    assert both.customer_id == by_phone.customer_id
    assert email_only.customer_id == by_email.customer_id
    assert new_phone.customer_id == by_email.customer_id
    assert both.customer.phone == "+639175550123"


def test_a_store_id_no_row_can_have_is_no_store(record):
    actor = owner_actor()
    with pytest.raises(InvalidOrder, match="That store does not exist."):
        record(new_order(store_id=2**70), by=actor)
    assert not Order.objects.exists()
