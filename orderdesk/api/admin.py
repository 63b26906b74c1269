from django.contrib import admin

from .models import ApiKey, IdempotentRequest


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
