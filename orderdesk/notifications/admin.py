from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["order", "trigger", "channel", "recipient", "status", "attempts", "created_at"]
    list_filter = ["status", "channel", "trigger"]
    list_select_related = ["order"]
    search_fields = ["=recipient", "=order__reference"]
    show_full_result_count = False
    raw_id_fields = ["merchant", "order"]
