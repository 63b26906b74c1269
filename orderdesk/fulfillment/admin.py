from django.contrib import admin

from .models import Fulfillment, FulfillmentLine, TrackingEvent


class FulfillmentLineInline(admin.TabularInline):
    model = FulfillmentLine
    extra = 0
    raw_id_fields = ["order_line", "merchant"]


class TrackingEventInline(admin.TabularInline):
    model = TrackingEvent
    extra = 0
    raw_id_fields = ["merchant"]


@admin.register(Fulfillment)
class FulfillmentAdmin(admin.ModelAdmin):
    list_display = ["order", "status", "carrier", "delivery_reference", "expected_on", "created_at"]
    list_filter = ["status"]
    list_select_related = ["order"]
    search_fields = ["=delivery_reference", "=order__reference"]
    show_full_result_count = False
    raw_id_fields = ["merchant", "order", "created_by", "photos"]
    inlines = [FulfillmentLineInline, TrackingEventInline]


@admin.register(FulfillmentLine)
class FulfillmentLineAdmin(admin.ModelAdmin):
    list_display = ["fulfillment", "order_line", "quantity"]
    raw_id_fields = ["merchant", "fulfillment", "order_line"]
    show_full_result_count = False


@admin.register(TrackingEvent)
class TrackingEventAdmin(admin.ModelAdmin):
    list_display = ["fulfillment", "status", "occurred_at", "place"]
    list_filter = ["status"]
    search_fields = ["=fulfillment__delivery_reference"]
    show_full_result_count = False
    raw_id_fields = ["merchant", "fulfillment"]
