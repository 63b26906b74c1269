from django.contrib import admin

from orderdesk.backoffice import ReadOnlyAdmin, ReadOnlyInline

from .models import Order, OrderEvent, OrderLine, OrderStatusCount


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["sku", "title", "variant_title", "quantity", "unit_price"]
    readonly_fields = fields


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ["created_at", "kind", "actor_name", "data"]
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    """Shown, never edited here: orders change through the order actions."""

    list_display = ["reference", "merchant", "status", "customer_name", "total", "currency", "placed_at"]
    list_filter = ["status", "payment_method", "payment_status"]
    list_select_related = ["merchant"]
    # Exact reference and phone hit indexes; the full count of a million rows is skipped.
    search_fields = ["=reference", "=customer_phone", "=external_id", "^customer_name"]
    show_full_result_count = False
    date_hierarchy = None
    ordering = ["-placed_at", "-id"]
    raw_id_fields = ["merchant", "store", "customer"]
    readonly_fields = [
        "status",
        "payment_status",
        "payment_verified_at",
        "dispatched_at",
        "fulfilled_at",
        "cancelled_at",
        "cancel_reason",
        "fulfill_remarks",
        "due_on",
        "customer_page_token",
        "subtotal",
        "total",
    ]
    inlines = [OrderLineInline, OrderEventInline]


@admin.register(OrderLine)
class OrderLineAdmin(ReadOnlyAdmin):
    list_display = ["order", "sku", "title", "quantity", "unit_price"]
    list_select_related = ["order"]
    search_fields = ["=sku", "=order__reference"]
    show_full_result_count = False
    raw_id_fields = ["merchant", "order", "variant"]


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    list_display = ["order", "kind", "actor_name", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["order"]
    search_fields = ["=order__reference"]
    show_full_result_count = False
    raw_id_fields = ["merchant", "order", "actor"]


@admin.register(OrderStatusCount)
class OrderStatusCountAdmin(ReadOnlyAdmin):
    """Read-only: the order actions keep these; orders.counts.recount_orders rebuilds them."""

    list_display = ["merchant", "status", "count"]
    list_filter = ["status"]
    list_select_related = ["merchant"]
    search_fields = ["merchant__name"]
