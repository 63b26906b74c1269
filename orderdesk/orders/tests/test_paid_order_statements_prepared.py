"""On PostgreSQL, the statements a paid order runs every time (its store and merchant, its
number, its customer, the order itself, the hosted lines auto-processing looks for) are prepared
and keep their plans: planning them each time cost the server more than running them."""

import pytest
from django.db import connection

from orderdesk.accounts.models import Merchant
from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.catalog.models import Product, Variant
from orderdesk.orders import actions
from orderdesk.orders.actions import CustomerDetails, LineInput
from orderdesk.orders.tests.factories import new_order

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

STATEMENTS = {
    "the merchant and its store": 'FROM "accounts_merchant"',
    "the order's number": '"last_order_number" + ',
    "its customer found or made": '"found" AS (',
    "the order": 'INSERT INTO "orders_order"',
    "the hosted lines": 'SUM(e."quantity")',
}


def test_a_paid_orders_statements_are_prepared_and_keep_their_plans():
    owner = owner_actor()
    Merchant.objects.filter(pk=owner.merchant.pk).update(auto_processing=True)
    product = Product.objects.create(merchant=owner.merchant, title="Linen shirt")
    variant = Variant.objects.create(merchant=owner.merchant, product=product, sku="LS-M", price="799.00")
    line = LineInput(title="Linen shirt", sku="LS-M", quantity=1, unit_price="799.00", variant_id=variant.pk)
    for number in range(12):
        customer = CustomerDetails(
            name=f"Customer {number}", phone=f"0917 555 {number:04d}", email="", address="12 Mabini St"
        )
        actions.record_order(new_order(customer=customer, lines=[line]), by=owner, payment_confirmed=True)

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        prepared = cursor.fetchall()
    for name, text in STATEMENTS.items():
        runs = [(generic, custom) for statement, generic, custom in prepared if text in statement]
        assert runs, f"{name}: not prepared"
        # Prepared at its fifth run; PostgreSQL plans for the values at the first five runs of a
        # prepared statement, then keeps its one plan when that is as good.
        assert any(generic >= 1 for generic, _ in runs), f"{name}: planned anew at every run {runs}"
