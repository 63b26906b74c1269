from django.db import migrations, models


def recount_shipments(apps, schema_editor):
    """Shipments allocated to vendors (auto-processing, Place) were not counted before 2026-12-07,
    nor were shipments emptied by a move uncounted: count every merchant's shipments again, once.
    The allocation and move actions keep them from here on."""
    Fulfillment = apps.get_model("fulfillment", "Fulfillment")
    ShipmentStatusCount = apps.get_model("fulfillment", "ShipmentStatusCount")
    rows = list(
        Fulfillment.objects.values("merchant_id", "vendor_id", "status")
        .annotate(n=models.Count("id"))
        .order_by()
    )
    ShipmentStatusCount.objects.all().delete()
    ShipmentStatusCount.objects.bulk_create(
        ShipmentStatusCount(
            merchant_id=row["merchant_id"], vendor_id=row["vendor_id"], status=row["status"], count=row["n"]
        )
        for row in rows
    )


class Migration(migrations.Migration):
    dependencies = [("fulfillment", "0005_shipment_tracking_link_counts_and_attention")]

    operations = [migrations.RunPython(recount_shipments, migrations.RunPython.noop)]
