"""The outbox forgets orders: a message is about a generic reference (about_type, about_id),
has a topic ("order.dispatched") and a payload for its composer. Existing rows keep their
order as ("order", id), their trigger as topic and payload, and count as composed already."""

import django.db.models.deletion
from django.db import migrations, models


def order_to_about(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    for row in Notification.objects.all().iterator():
        row.topic = f"order.{row.trigger}" if row.order_id else row.trigger
        if row.order_id:
            row.about_type, row.about_id = "order", str(row.order_id)
            row.payload = {"order_id": row.order_id, "event": row.trigger}
        row.composed_at = row.created_at
        row.save(update_fields=["topic", "about_type", "about_id", "payload", "composed_at"])


def about_to_order(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    for row in Notification.objects.all().iterator():
        row.trigger = row.payload.get("event") or row.topic.removeprefix("order.")
        if row.about_type == "order":
            row.order_id = int(row.about_id)
        row.save(update_fields=["trigger", "order"])


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        ("notifications", "0002_notificationpreference"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="topic",
            field=models.CharField(default="", max_length=60),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="notification",
            name="about_type",
            field=models.CharField(blank=True, max_length=40),
        ),
        migrations.AddField(
            model_name="notification",
            name="about_id",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="notification",
            name="payload",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="notification",
            name="composed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="notification",
            name="audience",
            field=models.CharField(
                choices=[
                    ("merchant", "Merchant"),
                    ("customer", "Customer"),
                    ("vendor", "Vendor"),
                    ("endpoint", "Endpoint"),
                ],
                max_length=10,
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="merchant",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.merchant",
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="trigger",
            field=models.CharField(blank=True, max_length=40),
        ),
        migrations.RunPython(order_to_about, about_to_order),
        migrations.RemoveField(model_name="notification", name="order"),
        migrations.RemoveField(model_name="notification", name="trigger"),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(fields=["about_type", "about_id", "created_at"], name="notification_about"),
        ),
    ]
