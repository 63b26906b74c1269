"""Two people claiming the last unit at once: exactly one case is opened (real transactions;
on PostgreSQL in .ci/run's second pass, SQLite otherwise)."""

import pytest

from orderdesk.aftersales import actions
from orderdesk.aftersales.actions import CaseLineInput
from orderdesk.aftersales.errors import InvalidCase
from orderdesk.aftersales.models import CaseLine
from orderdesk.orders.tests.test_concurrent_actions import run_together

from .factories import shipped_order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("round_number", range(3))
def test_two_cases_racing_for_the_last_unit_open_one(round_number):
    shipped = shipped_order()
    actions.open_cases(
        shipped.order.pk,
        by=shipped.owner,
        type="product_broken",
        mode="refund",
        lines=[CaseLineInput(shipped.shirt.pk, 1)],
        text="One shirt torn",
    )

    def claim_last_shirt():
        return actions.open_cases(
            shipped.order.pk,
            by=shipped.owner,
            type="missing_item",
            mode="resend",
            lines=[CaseLineInput(shipped.shirt.pk, 1)],
            text="The other shirt is missing",
        )

    outcomes = run_together(claim_last_shirt, claim_last_shirt)

    opened = [o for o in outcomes if isinstance(o, list)]
    refused = [o for o in outcomes if isinstance(o, InvalidCase)]
    assert len(opened) == 1 and len(refused) == 1, outcomes
    assert "2 were shipped and 2 are in earlier cases" in refused[0].message
    assert sum(CaseLine.objects.filter(order_line=shipped.shirt).values_list("quantity", flat=True)) == 2
