from django.contrib import admin

from .models import Product, Variant


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = ["sku", "title", "price"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["title", "merchant", "is_active", "created_at"]
    list_filter = ["is_active"]
    list_select_related = ["merchant"]
    search_fields = ["^title", "=variants__sku"]
    show_full_result_count = False
    autocomplete_fields = ["merchant"]
    inlines = [VariantInline]


@admin.register(Variant)
class VariantAdmin(admin.ModelAdmin):
    list_display = ["sku", "product", "title", "price", "merchant"]
    list_select_related = ["product", "merchant"]
    search_fields = ["=sku", "^product__title"]
    show_full_result_count = False
    autocomplete_fields = ["merchant", "product"]
