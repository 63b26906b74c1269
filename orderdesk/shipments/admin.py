from django.contrib import admin

from orderdesk.backoffice import ReadOnlyAdmin

from .models import CarrierDelivery, CarrierFeed


@admin.register(CarrierFeed)
class CarrierFeedAdmin(ReadOnlyAdmin):
    # The secret is never shown: set it with `manage.py carrier_feed`.
    list_display = ["merchant", "created_at"]
    exclude = ["secret_encrypted", "token"]
    raw_id_fields = ["merchant"]


@admin.register(CarrierDelivery)
class CarrierDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["tracking_number", "tag", "event_id", "received_at"]
    search_fields = ["=tracking_number", "=event_id"]
    show_full_result_count = False
    raw_id_fields = ["merchant", "feed"]
