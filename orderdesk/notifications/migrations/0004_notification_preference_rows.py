"""Preferences become rows (topic × channel × audience; no row means on) instead of eight
booleans. A merchant's switched-off choices become rows with enabled off."""

import django.db.models.deletion
from django.db import migrations, models

# The old boolean → (topic, channel, audience) it governed.
SWITCHES = {
    "merchant_sms_on_payment": ("order.payment_verified", "sms", "merchant"),
    "merchant_email_on_payment": ("order.payment_verified", "email", "merchant"),
    "customer_sms_on_dispatch": ("order.dispatched", "sms", "customer"),
    "customer_email_on_dispatch": ("order.dispatched", "email", "customer"),
    "customer_sms_on_fulfillment": ("order.fulfilled", "sms", "customer"),
    "customer_email_on_fulfillment": ("order.fulfilled", "email", "customer"),
    "customer_sms_on_cancellation": ("order.cancelled", "sms", "customer"),
    "customer_email_on_cancellation": ("order.cancelled", "email", "customer"),
}


def booleans_to_rows(apps, schema_editor):
    Legacy = apps.get_model("notifications", "LegacyNotificationPreference")
    Preference = apps.get_model("notifications", "NotificationPreference")
    Preference.objects.bulk_create(
        Preference(merchant_id=old.merchant_id, topic=topic, channel=channel, audience=audience, enabled=False)
        for old in Legacy.objects.all().iterator()
        for name, (topic, channel, audience) in SWITCHES.items()
        if not getattr(old, name)
    )


def rows_to_booleans(apps, schema_editor):
    Legacy = apps.get_model("notifications", "LegacyNotificationPreference")
    Preference = apps.get_model("notifications", "NotificationPreference")
    names = {key: name for name, key in SWITCHES.items()}
    for row in Preference.objects.filter(enabled=False):
        name = names.get((row.topic, row.channel, row.audience))
        if name:
            old, _ = Legacy.objects.get_or_create(merchant_id=row.merchant_id)
            setattr(old, name, False)
            old.save(update_fields=[name])


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        ("notifications", "0003_outbox_about_reference"),
    ]

    operations = [
        migrations.RenameModel("NotificationPreference", "LegacyNotificationPreference"),
        migrations.AlterField(
            model_name="legacynotificationpreference",
            name="merchant",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                primary_key=True,
                related_name="+",
                serialize=False,
                to="accounts.merchant",
            ),
        ),
        migrations.CreateModel(
            name="NotificationPreference",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("topic", models.CharField(max_length=60)),
                ("channel", models.CharField(choices=[("sms", "SMS"), ("email", "Email")], max_length=10)),
                (
                    "audience",
                    models.CharField(
                        choices=[
                            ("merchant", "Merchant"),
                            ("customer", "Customer"),
                            ("vendor", "Vendor"),
                            ("endpoint", "Endpoint"),
                        ],
                        max_length=10,
                    ),
                ),
                ("enabled", models.BooleanField(default=True)),
                (
                    "merchant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notification_preferences",
                        to="accounts.merchant",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("merchant", "topic", "channel", "audience"), name="one_preference_per_kind"
                    )
                ],
            },
        ),
        migrations.RunPython(booleans_to_rows, rows_to_booleans),
        migrations.DeleteModel("LegacyNotificationPreference"),
    ]
