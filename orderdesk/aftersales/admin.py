from django.contrib import admin

from .models import AfterSalesCase, CaseLine, CaseMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    """Cases change only through aftersales.actions; the admin shows them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CaseLineInline(admin.TabularInline):
    model = CaseLine
    extra = 0
    can_delete = False
    readonly_fields = ["order_line", "quantity"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AfterSalesCase)
class AfterSalesCaseAdmin(ReadOnlyAdmin):
    list_display = ["id", "order", "vendor", "type", "mode", "status", "created_at"]
    list_filter = ["status", "type", "mode"]
    list_select_related = ["order", "vendor"]
    raw_id_fields = ["order", "vendor", "resend_shipment", "merchant", "created_by"]
    inlines = [CaseLineInline]
    search_fields = ["=order__reference"]
    show_full_result_count = False


@admin.register(CaseLine)
class CaseLineAdmin(ReadOnlyAdmin):
    list_display = ["id", "case", "order_line", "quantity"]
    raw_id_fields = ["case", "merchant", "order_line"]
    show_full_result_count = False


@admin.register(CaseMessage)
class CaseMessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "case", "author_name", "by_vendor", "created_at"]
    raw_id_fields = ["case", "merchant", "author"]
    show_full_result_count = False
