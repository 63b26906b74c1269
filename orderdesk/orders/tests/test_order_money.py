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
