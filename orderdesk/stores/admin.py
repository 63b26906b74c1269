from django.contrib import admin

from .models import Store


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["name", "merchant", "channel", "processing", "is_active", "last_synced_at"]
    list_filter = ["channel", "processing", "is_active"]
    list_select_related = ["merchant"]
    search_fields = ["name"]
    autocomplete_fields = ["merchant"]
