from django.contrib import admin

from orderdesk.backoffice import ReadOnlyAdmin, ReadOnlyInline

from .models import Fulfillment, FulfillmentLine, ShipmentStatusCount, TrackingEvent


class FulfillmentLineInline(ReadOnlyInline):
    model = FulfillmentLine
    raw_id_fields = ["order_line", "merchant"]


class TrackingEventInline(ReadOnlyInline):
    model = TrackingEvent
    raw_id_fields = ["merchant"]


@admin.register(Fulfillment)
class FulfillmentAdmin(ReadOnlyAdmin):
    list_display = ["order", "status", "carrier", "delivery_reference", "expected_on", "created_at"]
    list_filter = ["status"]
    list_select_related = ["order"]
    search_fields = ["=delivery_reference", "=order__reference"]
    show_full_result_count = False
    raw_id_fields = ["merchant", "order", "created_by", "photos"]
    inlines = [FulfillmentLineInline, TrackingEventInline]


@admin.register(FulfillmentLine)
class FulfillmentLineAdmin(ReadOnlyAdmin):
    list_display = ["fulfillment", "order_line", "quantity"]
    raw_id_fields = ["merchant", "fulfillment", "order_line"]
    show_full_result_count = False


@admin.register(TrackingEvent)
class TrackingEventAdmin(ReadOnlyAdmin):
    list_display = ["fulfillment", "status", "occurred_at", "place"]
    list_filter = ["status"]
    search_fields = ["=fulfillment__delivery_reference"]
    show_full_result_count = False
    raw_id_fields = ["merchant", "fulfillment"]


@admin.register(ShipmentStatusCount)
class ShipmentStatusCountAdmin(ReadOnlyAdmin):
    list_display = ["merchant", "vendor", "status", "count"]
    list_filter = ["status"]
    raw_id_fields = ["merchant", "vendor"]
