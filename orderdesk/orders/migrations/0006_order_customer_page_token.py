"""The customer's page token is named for the page (Order Tracking is the merchant's list)."""

from django.db import migrations, models

import orderdesk.orders.models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0005_alter_orderevent_kind"),
    ]

    operations = [
        migrations.RenameField(model_name="order", old_name="tracking_token", new_name="customer_page_token"),
        migrations.AlterField(
            model_name="order",
            name="customer_page_token",
            field=models.CharField(
                default=orderdesk.orders.models.new_customer_page_token, max_length=64, unique=True
            ),
        ),
    ]
