"""The orders' kept after-sales figures (orders 0010) for the cases opened before they were kept.

Only orders with a case are touched, one UPDATE each; the figures are summed from the cases as
aftersales.queries.costs_and_refunds sums them.
"""

from decimal import Decimal

from django.db import migrations
from django.db.models import Count, Sum


def count_kept_figures(apps, schema_editor):
    case_model = apps.get_model("aftersales", "AfterSalesCase")
    order_model = apps.get_model("orders", "Order")
    sums = (
        case_model.objects.values("order_id")
        .annotate(
            cases=Count("id"),
            refunds=Sum("customer_refund"),
            credits=Sum("vendor_credit"),
            resends=Sum("resend_cost"),
        )
        .order_by()
    )
    for row in sums.iterator():
        order_model.objects.filter(pk=row["order_id"]).update(
            after_sales_case_count=row["cases"],
            refunded_total=row["refunds"] or Decimal("0"),
            vendor_credit_total=row["credits"] or Decimal("0"),
            resend_cost_total=row["resends"] or Decimal("0"),
        )


class Migration(migrations.Migration):
    dependencies = [
        ("aftersales", "0001_initial"),
        ("orders", "0011_order_after_sales_money"),
    ]

    operations = [migrations.RunPython(count_kept_figures, migrations.RunPython.noop)]
