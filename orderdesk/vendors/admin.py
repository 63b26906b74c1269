from django.contrib import admin

from .models import Hosting, Vendor


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ["name", "merchant", "contact_email", "processing_days", "is_active"]
    list_filter = ["is_active"]
    list_select_related = ["merchant"]
    search_fields = ["^name", "=contact_email"]
    show_full_result_count = False
    autocomplete_fields = ["merchant"]


@admin.register(Hosting)
class HostingAdmin(admin.ModelAdmin):
    list_display = ["variant", "vendor", "vendor_sku", "unit_cost", "shipping_cost", "merchant"]
    list_select_related = ["variant", "vendor", "merchant"]
    search_fields = ["=variant__sku", "=vendor_sku"]
    show_full_result_count = False
    autocomplete_fields = ["merchant", "variant", "vendor"]
