from django.contrib import admin

from orderdesk.backoffice import ReadOnlyAdmin

from .models import (
    DailyCostFigures,
    DailyDatedCounts,
    DailyOrderFigures,
    DailyShipmentFigures,
    Export,
    RollupState,
)


@admin.register(DailyOrderFigures)
class DailyOrderFiguresAdmin(ReadOnlyAdmin):
    """Kept by the roll-up refresh; `manage.py reports rollup --full` rebuilds them."""

    list_display = ["day", "merchant", "store", "status", "order_count", "total_sum", "item_count"]
    list_filter = ["status"]
    list_select_related = ["merchant", "store"]
    search_fields = ["=merchant__name"]
    show_full_result_count = False


@admin.register(DailyCostFigures)
class DailyCostFiguresAdmin(ReadOnlyAdmin):
    """Kept by the roll-up refresh with the order figures."""

    list_display = ["day", "merchant", "store", "vendor", "sku", "title", "units", "revenue", "cost"]
    list_select_related = ["merchant", "store", "vendor"]
    search_fields = ["=merchant__name", "=sku"]
    show_full_result_count = False


@admin.register(DailyShipmentFigures)
class DailyShipmentFiguresAdmin(ReadOnlyAdmin):
    """Kept by the roll-up refresh with the order figures (shipping, fulfillment time, scorecard)."""

    list_display = [
        "day",
        "merchant",
        "store",
        "vendor",
        "shipments",
        "delivered",
        "met_exception",
        "on_time",
    ]
    list_select_related = ["merchant", "store", "vendor"]
    search_fields = ["=merchant__name"]
    show_full_result_count = False


@admin.register(DailyDatedCounts)
class DailyDatedCountsAdmin(ReadOnlyAdmin):
    """Kept by the roll-up refresh: what waits on a date (late and stuck are counted from these)."""

    list_display = ["day", "merchant", "store", "what", "on", "count"]
    list_filter = ["what"]
    list_select_related = ["merchant", "store"]
    search_fields = ["=merchant__name"]
    show_full_result_count = False


@admin.register(RollupState)
class RollupStateAdmin(ReadOnlyAdmin):
    list_display = ["merchant", "counted_through", "refreshed_at"]
    list_select_related = ["merchant"]
    search_fields = ["=merchant__name"]


@admin.register(Export)
class ExportAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "merchant", "kind", "file_format", "status", "rows_written", "row_count"]
    list_filter = ["status", "kind", "file_format"]
    list_select_related = ["merchant"]
    search_fields = ["=merchant__name", "=requested_email"]
    show_full_result_count = False
