from django.contrib import admin

from .models import ApiKey, IdempotentRequest, WebhookAttempt, WebhookEndpoint


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Read-only: keys are made and revoked by the owner, so their tokens are never seen here."""

    list_display = ["name", "merchant", "scope", "token_prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["scope"]
    list_select_related = ["merchant"]
    search_fields = ["name", "token_prefix"]
    readonly_fields = [f.name for f in ApiKey._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IdempotentRequest)
class IdempotentRequestAdmin(admin.ModelAdmin):
    list_display = ["key", "api_key", "merchant", "response_status", "created_at"]
    list_select_related = ["api_key", "merchant"]
    search_fields = ["key"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Read-only: the owner manages endpoints; the encrypted secret is never shown here."""

    list_display = ["url", "merchant", "is_active", "failing_since", "disabled_at", "created_at"]
    list_filter = ["is_active"]
    list_select_related = ["merchant"]
    search_fields = ["url", "description"]
    exclude = ["secret_encrypted"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in WebhookEndpoint._meta.fields if f.name != "secret_encrypted"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(admin.ModelAdmin):
    list_display = ["endpoint", "merchant", "attempted_at", "status_code", "succeeded", "duration_ms"]
    list_filter = ["succeeded"]
    list_select_related = ["endpoint", "merchant"]
    search_fields = ["endpoint__url", "answer_excerpt"]
    readonly_fields = [f.name for f in WebhookAttempt._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
