from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.orders import actions
from orderdesk.orders.actions import LineInput

from .factories import new_order

amounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999.99"), places=2)
lines = st.lists(st.tuples(st.integers(min_value=1, max_value=50), amounts), min_size=1, max_size=6)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bought=lines, shipping_fee=amounts)
def test_order_totals_are_exact_sums_of_lines_and_shipping(bought, shipping_fee):
    actor = owner_actor()
    order = actions.record_order(
        new_order(
            lines=[LineInput(title=f"Item {i}", quantity=q, unit_price=p) for i, (q, p) in enumerate(bought)],
            shipping_fee=shipping_fee,
        ),
        by=actor,
    )
    order.refresh_from_db()
    expected_subtotal = sum((q * p for q, p in bought), Decimal("0"))
    assert order.subtotal == expected_subtotal
    assert order.total == expected_subtotal + shipping_fee
    assert sum((line.line_total for line in order.lines.all()), Decimal("0")) == order.subtotal


@pytest.mark.django_db
def test_an_order_whose_total_would_not_fit_the_money_columns_is_refused_and_nothing_is_recorded():
    from orderdesk.orders.errors import InvalidOrder
    from orderdesk.orders.models import Order

    owner = owner_actor()
    lines = [LineInput(title="Gold bar", quantity=483, unit_price=Decimal("5303485008.00"))]
    with pytest.raises(InvalidOrder) as refused:
        actions.record_order(new_order(lines=lines), by=owner)
    assert refused.value.message == "The order's total is too large."
    assert refused.value.field == "lines"
    assert not Order.objects.exists()
