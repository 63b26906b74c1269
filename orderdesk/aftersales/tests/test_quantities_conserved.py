"""Whatever sequence of cases is opened, answered and closed, the units held by cases never
exceed what each shipper shipped, and a claim is refused exactly when it would."""

from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.aftersales import actions
from orderdesk.aftersales.actions import CaseLineInput
from orderdesk.aftersales.errors import CaseStatusRefused, InvalidCase
from orderdesk.aftersales.models import AfterSalesCase, CaseLine
from orderdesk.aftersales.queries import holding
from orderdesk.vendors.tests.factories import VendorFactory

from .factories import shipped_order

pytestmark = pytest.mark.django_db

steps = st.lists(
    st.one_of(
        st.tuples(st.just("open"), st.integers(0, 3), st.integers(0, 2)),
        st.tuples(st.sampled_from(["accept", "reject", "close", "resolve"]), st.integers(0, 5)),
    ),
    min_size=1,
    max_size=10,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_cases_never_hold_more_units_than_were_shipped(steps):
    owner = owner_actor()
    shipped = shipped_order(owner, vendor=VendorFactory(merchant=owner.merchant))
    shipped_by = {(shipped.shirt.pk, shipped.vendor.pk): 2, (shipped.tote.pk, None): 1}
    opened: list[AfterSalesCase] = []

    for step in steps:
        if step[0] == "open":
            _, shirts, totes = step
            held = _held(shipped.order)
            free_shirts = 2 - held[(shipped.shirt.pk, shipped.vendor.pk)]
            free_totes = 1 - held[(shipped.tote.pk, None)]
            lines = [CaseLineInput(shipped.shirt.pk, shirts), CaseLineInput(shipped.tote.pk, totes)]
            should_pass = shirts + totes > 0 and shirts <= free_shirts and totes <= free_totes
            try:
                opened += actions.open_cases(
                    shipped.order.pk, by=owner, type="other", mode="resend", lines=lines, text="Broken"
                )
            except InvalidCase:
                assert not should_pass
            else:
                assert should_pass
        elif opened:
            case = opened[step[1] % len(opened)]
            handler = shipped.vendor_user if case.vendor_id else owner
            try:
                if step[0] == "accept":
                    actions.accept_case(case.pk, by=handler)
                elif step[0] == "reject":
                    actions.reject_case(case.pk, by=handler, reason="No")
                elif step[0] == "close":
                    actions.close_case(case.pk, by=owner)
                else:
                    actions.resolve_case(case.pk, by=owner)
            except CaseStatusRefused:
                pass
        for key, units in _held(shipped.order).items():
            assert units <= shipped_by[key]


def _held(order) -> dict:
    held = defaultdict(int)
    for line in CaseLine.objects.filter(case__order=order).filter(holding("case__")).select_related("case"):
        held[(line.order_line_id, line.case.vendor_id)] += line.quantity
    return held
