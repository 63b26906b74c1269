from django.contrib import admin

from .models import Customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "phone", "email", "merchant", "created_at"]
    list_select_related = ["merchant"]
    # Exact phone/email use the customer_by_* indexes; name is a prefix match.
    search_fields = ["=phone", "=email", "^name"]
    show_full_result_count = False
    autocomplete_fields = ["merchant"]
