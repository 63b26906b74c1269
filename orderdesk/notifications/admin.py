from django.contrib import admin, messages

from .actions import resend_failed_notifications
from .models import Notification, NotificationPreference


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "about_type",
        "about_id",
        "topic",
        "channel",
        "recipient",
        "status",
        "attempts",
        "created_at",
        "sent_at",
    ]
    list_filter = ["status", "channel", "topic"]
    search_fields = ["=recipient", "=about_id"]
    show_full_result_count = False
    raw_id_fields = ["merchant"]
    readonly_fields = [
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "provider_message_id",
        "idempotency_key",
        "composed_at",
        "sent_at",
    ]
    actions = ["resend_failed"]

    @admin.action(description="Resend the selected failed messages")
    def resend_failed(self, request, queryset):
        resent = resend_failed_notifications(
            queryset.values_list("pk", flat=True), label=f"Operator {request.user} (admin)"
        )
        self.message_user(request, f"{len(resent)} failed message(s) queued again.", messages.SUCCESS)


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["merchant", "topic", "channel", "audience", "enabled"]
    list_filter = ["topic", "channel", "audience", "enabled"]
    autocomplete_fields = ["merchant"]
    search_fields = ["merchant__name"]
